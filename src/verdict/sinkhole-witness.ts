/**
 * The sinkhole as a second witness: what it received, as the client addressed it.
 * Canary datagrams are left out here: the canary check accounts for them on its own.
 *
 * On a bench whose rig file names `lab.sinkhole_log`, Airlock did not run the sinkhole itself:
 * `run` fetched the gateway's log into the run directory (src/rig/sinkhole-fetch.ts). There the
 * witness counts only where the log shows the sinkhole was running (its liveness lines); a log
 * that could not be fetched, a gap, a gateway that forwarded (its liveness lines say), or lines
 * that are not the sinkhole's make the window INCONCLUSIVE, because a connection the sinkhole
 * never logged (or the gateway forwarded) cannot be missed by the check.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CANARY_DNS_SUFFIX, CANARY_PORT, CANARY_TOLERANCE_MS, canonicalAddress, decodeDnsCanary, type SentCanary } from '../analysis/canary.js';
import { forwardingProblem, readSinkholeLogFile, sinkholeGap, type SinkholeLog } from '../analysis/sinkhole-log.js';
import { CanaryList, canaryList } from './canary-list.js';

export interface SinkholeRecord {
  timeMs: number;
  protocol: string;
  src?: string;
  dst: string;
  dstPort?: number;
  /**
   * The sinkhole could not tell the original destination (no conntrack entry): dst/dstPort are its
   * own listening address and port, matched to no flow (src/verdict/network-blindness.ts).
   */
  dstUnknown?: boolean;
}

/** The sinkhole's own wildcard address: what an older sinkhole logged as dst when conntrack had no entry. */
const UNKNOWN_DST = new Set(['::', '0.0.0.0', '']);

/** The file names src/rig/sinkhole-fetch.ts writes (kept here: the engine imports nothing above it). */
const SINKHOLE_FILE = 'sinkhole.jsonl';
const SINKHOLE_FETCH_FILE = 'sinkhole-fetch.json';

export function readSinkholeFile(runDir: string): SinkholeLog {
  return readSinkholeLogFile(path.join(runDir, SINKHOLE_FILE));
}

/**
 * Whether a log record (original destination port CANARY_PORT) is one of the run's canaries: a
 * UDP or TCP canary sent from its source address and port to its destination, logged within
 * CANARY_TOLERANCE_MS before and CANARY_TOLERANCE_MS + 3 s after its send (the sinkhole logs
 * late on a loaded host). The log keeps only a canary's first 64 bytes, too few for its HMAC,
 * so the send's own tuple and time are what tell it from a device's traffic to that port.
 */
export function sentCanaryMatcher(sent: CanaryList | readonly SentCanary[]): (r: { proto: string; src: string; srcPort: number; dst: string; dstPort: number; t: number }) => boolean {
  const list = canaryList(sent);
  const at = new Map<string, number[]>();
  // A run's canaries come from a few addresses: each spelling is made canonical once.
  const canonical = new Map<string, string>();
  const canon = (a: string) => {
    let c = canonical.get(a);
    if (c === undefined) canonical.set(a, (c = canonicalAddress(a)));
    return c;
  };
  const key = (proto: string, src: string, srcPort: number, dst: string) => `${proto} ${canon(src)} ${srcPort} ${canon(dst)}`;
  for (let i = 0; i < list.length; i++) {
    const protocol = list.protocol(i);
    const src = list.src(i);
    const dst = list.dst(i);
    const srcPort = list.srcPort(i);
    if ((protocol !== 'udp' && protocol !== 'tcp') || list.dstPort(i) !== CANARY_PORT || src === undefined || dst === undefined || srcPort === undefined) continue;
    const k = key(protocol, src, srcPort, dst);
    const times = at.get(k);
    if (times) times.push(list.sentAtMs(i));
    else at.set(k, [list.sentAtMs(i)]);
  }
  // Each tuple's send times in order, searched by halves: an eight-hour run sends a tuple
  // hundreds of thousands of times, and the sinkhole logs each of them.
  const sorted = new Map([...at].map(([k, times]) => [k, Float64Array.from(times).sort()]));
  canonical.clear();
  return (r) => {
    if (r.dstPort !== CANARY_PORT || (r.proto !== 'udp' && r.proto !== 'tcp')) return false;
    let k: string;
    try {
      k = `${r.proto} ${canonicalAddress(r.src)} ${r.srcPort} ${canonicalAddress(r.dst)}`;
    } catch {
      return false; // an address the log schema let through but that does not parse: not a canary's
    }
    const times = sorted.get(k);
    if (!times) return false;
    // A send t with r.t in [t - CANARY_TOLERANCE_MS, t + CANARY_TOLERANCE_MS + 3000]: the first send
    // at or after r.t - CANARY_TOLERANCE_MS - 3000, if it is not after r.t + CANARY_TOLERANCE_MS.
    const from = r.t - CANARY_TOLERANCE_MS - 3000;
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < times.length && times[lo]! <= r.t + CANARY_TOLERANCE_MS;
  };
}

/**
 * The records the check matches to captures. Canaries are left out: with `isCanary` (from
 * sentCanaryMatcher, when the run's sent canaries carry their addresses) only the records of
 * canaries actually sent, so a device's own traffic to CANARY_PORT is still witnessed; without it
 * (older runs) every record to CANARY_PORT. A record whose destination is unknown is kept
 * whatever its port (its dstPort is the sinkhole's own, which says nothing of what the client
 * asked for).
 */
export function sinkholeRecordsOf(log: SinkholeLog, isCanary?: ReturnType<typeof sentCanaryMatcher>): SinkholeRecord[] {
  return log.records
    .filter((r) => !r.truncated)
    .filter((r) => {
      const dstUnknown = r.dstUnknown === true || UNKNOWN_DST.has(r.dst);
      return dstUnknown || (isCanary ? !isCanary(r) : r.dstPort !== CANARY_PORT);
    })
    .map((r): SinkholeRecord => {
      const dstUnknown = r.dstUnknown === true || UNKNOWN_DST.has(r.dst);
      return { timeMs: r.t, protocol: r.proto, src: r.src, dst: r.dst, dstPort: r.dstPort, ...(dstUnknown ? { dstUnknown } : {}) };
    });
}


/** Why the gateway's log cannot stand witness for [fromMs, toMs): empty when it can. */
export function gatewayLogProblems(runDir: string, log: SinkholeLog, fromMs: number, toMs: number): string[] {
  let fetch: { source?: string; error?: string; rejected?: number; firstRejected?: { line: number; why: string } };
  try {
    fetch = JSON.parse(readFileSync(path.join(runDir, SINKHOLE_FETCH_FILE), 'utf8')) as typeof fetch;
  } catch {
    return [`the rig names a gateway sinkhole log (lab.sinkhole_log), but the run directory has no ${SINKHOLE_FETCH_FILE}: the log was never fetched`];
  }
  if (fetch.error) return [`the gateway sinkhole's log could not be read (${fetch.error}): nothing witnesses the connections the captures may have missed`];
  const out: string[] = [];
  if (fetch.rejected) {
    out.push(`the gateway sinkhole's log holds ${fetch.rejected} line(s) in the run's span that are not sinkhole records (first: line ${fetch.firstRejected?.line ?? '?'} of the part read, ${fetch.firstRejected?.why ?? '?'}): the log cannot be trusted`);
  }
  const gap = sinkholeGap(log.liveness, fromMs, toMs);
  if (gap) out.push(`${gap}: the gateway sinkhole cannot witness this window`);
  const forwarded = forwardingProblem(log.liveness, fromMs, toMs);
  if (forwarded) out.push(forwarded);
  return out;
}

/** Canary sends judged in a window end this long before it (in flight when the captures stopped): as network-blindness.ts. */
const LAST_SECOND_MS = 1000;

/**
 * Whether the gateway's log shows the sinkhole receiving through [fromMs, toMs), and by the same
 * clock as this host: every DNS canary sent in the window to the outside target (routed to the
 * gateway, which redirects it to the sinkhole) or to the sinkhole's own address must be in the
 * log, HMAC-checked, logged within CANARY_TOLERANCE_MS of its send time. Heartbeats alone show a
 * process that writes, not one that receives: a log of another gateway, a redirect table flushed
 * mid-run (nftables restarted) or a gateway clock far off would otherwise pass for a witness.
 */
export function gatewayCanaryProblems(
  log: SinkholeLog,
  canaries: { secret: string; sent: CanaryList | readonly SentCanary[] } | undefined,
  sinkholes: Array<string | undefined>,
  fromMs: number,
  toMs: number,
): string[] {
  if (!canaries) return [];
  const sent = canaryList(canaries.sent);
  const to = new Set(sinkholes.filter((a): a is string => a !== undefined));
  // Indexes into the compact list (src/verdict/canary-list.ts); a record is made only for the canaries named below.
  const due = sent.sentIn(fromMs, toMs - LAST_SECOND_MS, (i) => {
    const dst = sent.dst(i);
    return sent.protocol(i) === 'dns' && sent.src(i) !== undefined && dst !== undefined && sent.srcPort(i) !== undefined && sent.dstPort(i) !== undefined && (sent.target(i) === 'outside' || to.has(dst));
  });
  if (due.length === 0) return [];
  // injection point -> sequence number (as the name's label spells it) -> the last canary of that key.
  const byKey = new Map<string, Map<string, number>>();
  for (const i of due) {
    const host = sent.host(i);
    let seqs = byKey.get(host);
    if (!seqs) byKey.set(host, (seqs = new Map()));
    seqs.set(String(sent.seq(i)), i);
  }
  const loggedAt = new Map<number, number>();
  for (const r of log.records) {
    if (r.proto !== 'dns' || !r.name?.endsWith('.' + CANARY_DNS_SUFFIX)) continue;
    const labels = r.name.split('.');
    const i = byKey.get(labels[4]!)?.get(labels[1]!);
    if (i === undefined || loggedAt.has(i)) continue;
    // Checked against the send's own addresses and ports: a name copied by anyone else, or forged, is not it.
    const ok = decodeDnsCanary(canaries.secret, r.name, { src: sent.src(i)!, dst: sent.dst(i)!, srcPort: sent.srcPort(i)!, dstPort: sent.dstPort(i)! });
    if (ok && ok.sentAtMs === sent.sentAtMs(i)) loggedAt.set(i, r.t);
  }
  const iso = (ms: number) => new Date(ms).toISOString();
  const out: string[] = [];
  const missing = due.filter((i) => !loggedAt.has(i));
  if (missing.length > 0) {
    const f = sent.get(missing[0]!);
    out.push(
      `the gateway sinkhole's log holds ${missing.length === due.length ? 'none' : `only ${due.length - missing.length}`} of the ${due.length} DNS canaries sent to it in this window ` +
        `(first missing: #${f.seq} from ${f.host} to ${f.target} ${f.dst} sent at ${iso(f.sentAtMs)}): it was not receiving (no redirect, another gateway's log), so it cannot witness this window`,
    );
  }
  const skewed = [...loggedAt].find(([i, t]) => Math.abs(t - sent.sentAtMs(i)) > CANARY_TOLERANCE_MS);
  if (skewed) {
    const c = sent.get(skewed[0]);
    const t = skewed[1];
    out.push(
      `the gateway's clock is off by ${((t - c.sentAtMs) / 1000).toFixed(1)} s from this host's (DNS canary #${c.seq} from ${c.host} sent at ${iso(c.sentAtMs)}, logged at ${iso(t)}): ` +
        `its log cannot be matched to the captures by time (NTP on both)`,
    );
  }
  return out;
}
