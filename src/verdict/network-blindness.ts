/** Whether a window's network evidence can prove absence: drops, damage, canaries, the sinkhole as second witness. */
import type { FileSummary, FlowSummary, SeenCanary } from '../analysis/index.js';
import type { SinkholeRecord } from './sinkhole-witness.js';
import { CAPTURE_LOSS_MIN_ACKS } from '../analysis/capture-loss.js';
import type { CaptureLossEntry } from './result.js';
import type { WindowData } from './window-data.js';
import { canaryList } from './canary-list.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** The address family of a destination (a canary without one is IPv4). */
const familyOfDst = (dst: string | undefined): 'IPv4' | 'IPv6' => (dst?.includes(':') ? 'IPv6' : 'IPv4');

/** Canaries sent in a window's last second are not required in it (in flight when the capture stopped). */
const LAST_SECOND_MS = 1000;
/**
 * How long after the captures saw a packet the sinkhole may log it: the packet crosses the lab
 * gateway's redirect and the sinkhole is a process of its own, late on a loaded host. Records
 * are matched to flows of the neighbouring windows within this (src/verdict/engine.ts).
 */
export const SINKHOLE_LAG_MS = 2000;
/** A window shorter than this is not required to hold a canary of every injection point. */
const MIN_CHECKED_MS = 5000;

/** How long an injection point may go without a send: three intervals and 5 s for a loaded host (a crashed sender shows). */
export const sendGapToleranceMs = (intervalMs: number) => 3 * intervalMs + 5000;

/** The first stretch between an injection point's sends (and from its last send to `tailTo`) longer than the tolerance. */
function sendGap(sentAtMs: Float64Array, intervalMs: number | undefined, tailTo: number | undefined): { fromMs: number; toMs: number } | undefined {
  if (!intervalMs || intervalMs <= 0) return undefined;
  const tol = sendGapToleranceMs(intervalMs);
  const t = sentAtMs.sort();
  for (let i = 1; i < t.length; i++) if (t[i]! - t[i - 1]! > tol) return { fromMs: t[i - 1]!, toMs: t[i]! };
  const last = t[t.length - 1]!;
  if (tailTo !== undefined && tailTo - last > tol) return { fromMs: last, toMs: tailTo };
  return undefined;
}

/**
 * Every canary sent in the window must be in every capture its injection point crosses; every
 * injection point must have sent some. Missing ones are named per capture, injection point and
 * protocol, so a filter or a mirror that hides one protocol shows as that.
 */
function canaryBlindness(data: WindowData, seen: SeenCanary[]): string[] {
  const { input, window } = data;
  const canaries = input.canaries!;
  // Canaries are indexes into the compact list (src/verdict/canary-list.ts): a long window holds
  // hundreds of thousands, and no record is made but for the canary a message names.
  const sent = canaryList(canaries.sent);
  const reasons: string[] = [];
  const netCaptures = input.captures.filter((c) => c.kind === 'network');
  // A rotated capture's parts together are the capture: a canary in any part is in the capture.
  const fileOf = new Map(netCaptures.map((c) => [c.name, c.files.length > 1 ? `${c.files[0]} and ${c.files.length - 1} more part(s)` : (c.files[0] ?? '')]));
  const captureOf = new Map(netCaptures.flatMap((c) => c.files.map((f) => [f, c.name] as const)));
  // capture -> injection point -> sequence numbers seen.
  const have = new Map<string, Map<string, Set<number>>>();
  for (const c of seen) {
    const cap = captureOf.get(c.file) ?? c.file;
    let hosts = have.get(cap);
    if (!hosts) have.set(cap, (hosts = new Map()));
    let seqs = hosts.get(c.host);
    if (!seqs) hosts.set(c.host, (seqs = new Set()));
    seqs.add(c.seq);
  }
  const checkedTo = window.toMs - LAST_SECOND_MS;
  const inWindow = sent.sentIn(window.fromMs, checkedTo);
  const family = (i: number) => familyOfDst(sent.dst(i));
  const protoOf = (i: number) => sent.protocol(i) ?? 'udp';
  for (const [host, crosses] of Object.entries(canaries.capturesFor)) {
    if (crosses.length === 0) continue;
    const mine = inWindow.filter((i) => sent.host(i) === host);
    if (mine.length === 0) {
      if (checkedTo - window.fromMs >= MIN_CHECKED_MS) reasons.push(`canary injection point ${host} sent no canary in this window, so nothing shows the captures ${crosses.join(', ')} could see`);
      continue;
    }
    // Canaries prove sight only around their sends: a sender that stopped (crashed, its SSH link
    // lost) leaves the rest of the window unproven, even when its earlier canaries were all seen.
    // In a phase the stretch from the point's last send before the window (or from the window's
    // start) counts too: a stall across a boundary, a little under the tolerance on each side,
    // is a stall all the same.
    const phase = data.window.kind === 'phase';
    let before = -Infinity;
    if (phase) {
      for (let i = 0; i < sent.length; i++) {
        const t = sent.sentAtMs(i);
        if (t < window.fromMs && t > before && sent.host(i) === host) before = t;
      }
    }
    const head = phase ? 1 : 0;
    const times = new Float64Array(head + mine.length);
    if (phase) times[0] = Number.isFinite(before) ? before : window.fromMs;
    for (let k = 0; k < mine.length; k++) times[head + k] = sent.sentAtMs(mine[k]!);
    const gap = sendGap(times, input.rig.canaries?.intervalMs, phase ? checkedTo : undefined);
    if (gap) {
      reasons.push(
        `canary injection point ${host} sent no canary between ${iso(gap.fromMs)} and ${iso(gap.toMs)} (${((gap.toMs - gap.fromMs) / 1000).toFixed(1)} s; one every ${input.rig.canaries!.intervalMs / 1000} s was promised), so nothing shows the captures ${crosses.join(', ')} could see then`,
      );
    }
    for (const cap of crosses) {
      const file = fileOf.get(cap);
      if (file === undefined) continue;
      const seqs = have.get(cap)?.get(host);
      const missing = seqs ? mine.filter((i) => !seqs.has(sent.seq(i))) : mine;
      if (missing.length === 0) continue;
      if (missing.length === mine.length) {
        reasons.push(`capture ${cap} (${file}) holds none of the ${mine.length} canaries ${host} sent in this window: wrong interface, interface down, or a tap or mirror that does not carry ${host}'s traffic`);
        continue;
      }
      const first = (miss: number[]) => {
        const f = miss[0]!;
        const dst = sent.dst(f);
        return `first: #${sent.seq(f)} to ${sent.target(f)}${dst ? ` ${dst}` : ''} sent at ${iso(sent.sentAtMs(f))}`;
      };
      // Every canary of one address family missing and none of the other: a filter or mirror hides that family.
      const hidden = (['IPv6', 'IPv4'] as const).find((fam) => {
        const all = mine.filter((i) => family(i) === fam);
        return all.length > 0 && all.length < mine.length && missing.length === all.length && missing.every((i) => family(i) === fam);
      });
      if (hidden) {
        reasons.push(`capture ${cap} (${file}) misses ${missing.length} of ${missing.length} ${hidden} canaries from ${host} (${first(missing)}): a capture filter or mirror hides ${hidden}`);
        continue;
      }
      for (const proto of [...new Set(missing.map(protoOf))]) {
        const all = mine.filter((i) => protoOf(i) === proto);
        const miss = missing.filter((i) => protoOf(i) === proto);
        const v6 = all.filter((i) => family(i) === 'IPv6');
        const hint =
          miss.length === all.length
            ? `: a capture filter or mirror hides ${proto}`
            : v6.length > 0 && miss.length === v6.length && miss.every((i) => family(i) === 'IPv6')
              ? `: a capture filter or mirror hides ${proto} over IPv6`
              : '';
        reasons.push(`capture ${cap} (${file}) misses ${miss.length} of ${all.length} ${proto} canaries from ${host} (${first(miss)})${hint}`);
      }
    }
  }
  return reasons;
}

/** Default capture-loss limit (a fraction): 0.1 %, as the rig file's `capture_loss_max` (src/config/rig.ts). */
export const DEFAULT_LOSS_MAX = 0.001;

/** One file's capture-loss entry from its scan's TCP counts, or undefined when it carried no TCP. */
export function captureLossEntry(capture: string, file: string, l: FileSummary['tcpLoss'] | undefined): CaptureLossEntry | undefined {
  if (!l || l.flows === 0) return undefined; // no TCP here: nothing to estimate
  const e: CaptureLossEntry = { capture, file, acks: l.acks, gaps: l.gaps, gapBytes: l.gapBytes };
  if (l.bothWays === 0) e.notEstimated = `none of its ${l.flows} TCP flows has both directions in the capture (a one-way mirror or tap cannot show what it missed)`;
  else if (l.acks < CAPTURE_LOSS_MIN_ACKS) e.notEstimated = `only ${l.acks} ACKs of new data (at least ${CAPTURE_LOSS_MIN_ACKS} are needed to say)`;
  else e.percent = (100 * l.gaps) / l.acks;
  return e;
}

/**
 * Why an entry's loss makes its judgement INCONCLUSIVE, after the capture's name ("missed an
 * estimated ..."; `limit` a fraction; `scope` follows "of TCP data", e.g. " in this window"), or
 * undefined when within the limit or not estimated.
 */
export function captureLossReason(e: CaptureLossEntry, limit: number, scope = ''): string | undefined {
  if (e.percent === undefined || e.percent / 100 <= limit) return undefined;
  return `missed an estimated ${e.percent.toFixed(2)} % of TCP data${scope} (${e.gaps} of ${e.acks} ACKs acknowledged data it never saw; limit ${(limit * 100).toFixed(2)} %)`;
}

/** The TCP capture loss of every network capture in a window, or why it is not estimated. */
export async function captureLossOf(data: WindowData): Promise<CaptureLossEntry[]> {
  const scan = await data.network();
  const out: CaptureLossEntry[] = [];
  for (const c of data.input.captures.filter((x) => x.kind === 'network')) {
    for (const file of c.files) {
      const e = captureLossEntry(c.name, file, scan.files.find((s) => s.file === file)?.tcpLoss);
      if (e) out.push(e);
    }
  }
  return out;
}

/** canaryBlindness's answer for a window (its scan is made once: WindowData.network()). */
const canaryReasonsOf = new WeakMap<WindowData, string[]>();

/** Why the network evidence of a window cannot prove absence (empty when it can). */
export async function networkBlindness(data: WindowData): Promise<string[]> {
  const reasons: string[] = [];
  const { input, window } = data;
  const netCaptures = input.captures.filter((c) => c.kind === 'network');
  if (netCaptures.length === 0) reasons.push('no network capture on this rig');
  for (const c of netCaptures) if (c.lossy) reasons.push(`capture ${c.name} is lossy: ${c.reason ?? 'packets dropped'}`);
  const scan = await data.network();
  for (const d of scan.damage) reasons.push(`${d.file} ${d.unjudged ? 'has frames it cannot judge from' : 'is damaged at'} byte offset ${d.offset}: ${d.reason}`);

  if (input.canaries) {
    // Each of the window's network assertions asks; the canaries are checked once per window.
    let canaryReasons = canaryReasonsOf.get(data);
    if (!canaryReasons) canaryReasonsOf.set(data, (canaryReasons = canaryBlindness(data, scan.canaries)));
    reasons.push(...canaryReasons);
  }
  else if (netCaptures.length > 0) reasons.push('no canaries were sent: the captures cannot show they could see');

  // Capture loss: acknowledged TCP data the capture never saw, above the rig's limit.
  const limit = input.rig.captureLossMax ?? DEFAULT_LOSS_MAX;
  for (const e of await captureLossOf(data)) {
    const why = captureLossReason(e, limit, ' in this window');
    if (why) reasons.push(`capture ${e.capture} (${e.file}) ${why}`);
  }

  // Silence is not proof: canaries run in every window, so a capture with no packet at all was blind.
  if (window.toMs - window.fromMs >= LAST_SECOND_MS) {
    // The parts of a rotated capture count together: one part may hold nothing of this window.
    const parts = new Map<string, string[]>();
    for (const c of data.input.captures) if (c.kind === 'network' && c.files.length > 1) for (const f of c.files) parts.set(f, c.files);
    const inWindow = new Map(scan.files.map((f) => [f.file, f.inWindow]));
    for (const f of scan.files) {
      const all = parts.get(f.file);
      if (all && all[0] !== f.file) continue;
      if ((all ?? [f.file]).every((x) => (inWindow.get(x) ?? 0) === 0)) reasons.push(`${all ? `${f.file} and its ${all.length - 1} later part(s) hold` : `${f.file} holds`} no packet at all in this window: the capture was blind`);
    }
  }

  // A gateway's log fetched after the run witnesses only where it shows the sinkhole running.
  reasons.push(...data.gatewaySinkholeProblems(), ...data.sinkholeLogDamage(), ...data.sinkholeTruncation());
  // The sinkhole is a second witness: a connection it saw that no capture holds means blindness.
  // It logs a packet after the captures saw it (on a loaded host by hundreds of milliseconds), so
  // a packet captured just before a window boundary can be logged just after it: the flows of
  // the windows next to this one count too, when they were seen within SINKHOLE_LAG_MS before
  // the record (or within a millisecond after it: the log's clock has millisecond steps).
  const flows = scan.flows;
  const near = (f: FlowSummary, r: SinkholeRecord) => f.lastMs >= r.timeMs - SINKHOLE_LAG_MS && f.firstMs <= r.timeMs + 1;
  for (const r of data.sinkholeRecords()) {
    // A record whose original destination the sinkhole could not tell (sinkhole-witness.ts marks
    // it; since the sinkhole looks conntrack up by the reply tuple, src/devices/sinkhole/conntrack.ts,
    // only a box without conntrack writes one) has no destination to match: a flow of the same
    // source counts only when seen around the record's time, in this window too, so another
    // packet of that device elsewhere in the window does not cover it.
    const same = (f: FlowSummary) =>
      !r.dstUnknown
        ? f.dst === r.dst && (r.dstPort === undefined || f.dstPort === r.dstPort) && (r.src === undefined || f.src === r.src)
        : r.src !== undefined && f.src === r.src && near(f, r) && f.protocol.startsWith(r.protocol === 'dns' ? 'dns' : '');
    const hit = flows.some(same) || data.neighbours.some((n) => n.flows.some((f) => near(f, r) && same(f)));
    if (!hit) {
      const to = r.dstUnknown ? 'an unknown destination' : `${r.dst}:${r.dstPort ?? ''}`;
      reasons.push(`the sinkhole saw ${r.protocol} ${r.src ?? '?'} -> ${to} at ${iso(r.timeMs)} but no capture holds it`);
      break;
    }
  }
  return reasons;
}

