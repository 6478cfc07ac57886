/**
 * What the sinkhole writes (one JSON object per line) and how to read it back. A log fetched from
 * a lab gateway is hostile input: lines longer than MAX_LINE bytes and objects that do not match
 * the record schema are rejected (counted, never trusted), and nothing in a line is executed or
 * used as a path.
 *
 * Two kinds of line: a record (a connection, a datagram, a DNS question) and a liveness line
 * (`event`: start, heartbeat, stop) the sinkhole writes so a reader can tell when it was running.
 */
import fs from 'node:fs';
import { Ajv } from 'ajv';

export interface SinkholeRecord {
  /** ISO 8601 UTC. */
  time: string;
  /** Milliseconds since the epoch. */
  t: number;
  /** `tcp` = a connection, `udp` = a datagram, `dns` = a DNS question. */
  proto: 'tcp' | 'udp' | 'dns';
  src: string;
  /** The port the client sent from (the original tuple's, src/devices/sinkhole/conntrack.ts). */
  srcPort: number;
  /** Only when NAT remapped the client's port on the way in: the port the sinkhole's socket saw. */
  seenSrcPort?: number;
  /** The destination as the client addressed it (before the sinkhole's redirect). */
  dst: string;
  dstPort: number;
  /**
   * The sinkhole found no conntrack entry for the packet: dst/dstPort are then its own listening
   * address and port (often `::`), and srcPort is the port it saw. Logs of older sinkholes say so
   * only by such an address (`::`, `0.0.0.0`): readers treat both alike (src/verdict/network-blindness.ts).
   */
  dstUnknown?: boolean;
  /** First bytes received (up to 64), hex. */
  bytes?: string;
  /** DNS: the name asked; TLS: the server name; HTTP: the Host header. */
  name?: string;
  /** DNS question type (A, AAAA, ...). */
  qtype?: string;
  /** DNS: transport the question came by. */
  transport?: 'udp' | 'tcp';
  /** Services in effect when recorded. */
  uplink?: boolean;
  /** Set on the last line when the sinkhole stopped recording individual datagrams. */
  truncated?: boolean;
}

/** A line saying the sinkhole was running: at start, every `heartbeatMs`, and when it stops. */
export interface SinkholeLiveness {
  time: string;
  t: number;
  event: 'start' | 'heartbeat' | 'stop';
  /** Random id of one sinkhole process: a new one means it restarted. */
  instance: string;
  /** The promised interval between liveness lines. */
  heartbeatMs: number;
  /** stop: why it stopped. */
  reason?: string;
  /**
   * The forwarding sysctls that were on when the line was written (`net.ipv4.ip_forward=1`, ...):
   * empty when the host did not forward. Absent in the lines of sinkholes older than this check.
   */
  forwarding?: string[];
}

/** A longer line is not the sinkhole's (its records are a few hundred bytes). */
export const MAX_LINE = 8192;

const ADDRESS = { type: 'string', maxLength: 64 } as const;
const PORT = { type: 'integer', minimum: 0, maximum: 65535 } as const;
const TIME = { type: 'string', maxLength: 40 } as const;
const EPOCH = { type: 'integer', minimum: 0 } as const;

const recordSchema = {
  type: 'object',
  required: ['time', 't', 'proto', 'src', 'srcPort', 'dst', 'dstPort'],
  additionalProperties: false,
  properties: {
    time: TIME,
    t: EPOCH,
    proto: { enum: ['tcp', 'udp', 'dns'] },
    src: ADDRESS,
    srcPort: PORT,
    seenSrcPort: PORT,
    dst: ADDRESS,
    dstPort: PORT,
    dstUnknown: { type: 'boolean' },
    bytes: { type: 'string', maxLength: 128, pattern: '^[0-9a-f]*$' },
    name: { type: 'string', maxLength: 1024 },
    qtype: { type: 'string', maxLength: 16 },
    transport: { enum: ['udp', 'tcp'] },
    uplink: { type: 'boolean' },
    truncated: { type: 'boolean' },
  },
} as const;

const livenessSchema = {
  type: 'object',
  required: ['time', 't', 'event', 'instance', 'heartbeatMs'],
  additionalProperties: false,
  properties: {
    time: TIME,
    t: EPOCH,
    event: { enum: ['start', 'heartbeat', 'stop'] },
    instance: { type: 'string', pattern: '^[0-9a-f]{8,64}$' },
    heartbeatMs: { type: 'integer', minimum: 100, maximum: 3_600_000 },
    reason: { type: 'string', maxLength: 200 },
    forwarding: { type: 'array', maxItems: 8, items: { type: 'string', maxLength: 64, pattern: '^[a-z0-9_.]+=[0-9]+$' } },
  },
} as const;

const ajv = new Ajv({ allErrors: false });
const isRecord = ajv.compile<SinkholeRecord>(recordSchema);
const isLiveness = ajv.compile<SinkholeLiveness>(livenessSchema);

export interface SinkholeLog {
  records: SinkholeRecord[];
  liveness: SinkholeLiveness[];
  /** Lines that were not the sinkhole's (1-based line number and why), at most 20 kept. */
  rejected: Array<{ line: number; why: string }>;
  rejectedCount: number;
}

/** One line of a sinkhole log: a record, a liveness line, or why it is neither. */
export type SinkholeLine = { record: SinkholeRecord } | { liveness: SinkholeLiveness } | { rejected: string };

export function parseSinkholeLine(line: string): SinkholeLine {
  if (line.length > MAX_LINE) return { rejected: `longer than ${MAX_LINE} characters` };
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { rejected: 'not JSON' };
  }
  if (isRecord(v)) return { record: v };
  if (isLiveness(v)) return { liveness: v };
  return { rejected: 'not a sinkhole record' };
}

/** Parses a sinkhole log. A torn last line (a crash mid-write) counts as rejected, like any other bad line. */
export function parseSinkholeLog(text: string): SinkholeLog {
  const out: SinkholeLog = { records: [], liveness: [], rejected: [], rejectedCount: 0 };
  let n = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    n++;
    // Sliced only when short enough: a hostile line of megabytes is never copied.
    const p: SinkholeLine = end - start > MAX_LINE ? { rejected: `longer than ${MAX_LINE} characters` } : end > start ? parseSinkholeLine(text.slice(start, end)) : { rejected: '' };
    if ('record' in p) out.records.push(p.record);
    else if ('liveness' in p) out.liveness.push(p.liveness);
    else if (p.rejected) {
      out.rejectedCount++;
      if (out.rejected.length < 20) out.rejected.push({ line: n, why: p.rejected });
    }
    start = end + 1;
  }
  return out;
}

/** Reads a sinkhole log file (an absent file reads as empty). */
export function readSinkholeLogFile(file: string): SinkholeLog {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { records: [], liveness: [], rejected: [], rejectedCount: 0 };
  }
  return parseSinkholeLog(text);
}

/** The records of a sinkhole log file (see parseSinkholeLog). */
export function readSinkholeLog(file: string): SinkholeRecord[] {
  return readSinkholeLogFile(file).records;
}

/**
 * How late a liveness line may come before the sinkhole counts as not running: twice the promised
 * interval, plus 2 s for a busy host and clock steps.
 */
export function livenessToleranceMs(heartbeatMs: number): number {
  return 2 * heartbeatMs + 2000;
}

/**
 * The first stretch of [fromMs, toMs) the liveness lines do not show the sinkhole running, as a
 * reason; undefined when it ran throughout. Running between two lines means: the same process
 * (instance), the first not a stop, and no more than livenessToleranceMs apart.
 */
export function sinkholeGap(liveness: readonly SinkholeLiveness[], fromMs: number, toMs: number): string | undefined {
  const iso = (ms: number) => new Date(ms).toISOString();
  const lines = [...liveness].sort((a, b) => a.t - b.t);
  const first = lines[0];
  const last = lines[lines.length - 1];
  if (!first || !last) return 'the sinkhole log has no start or heartbeat line at all: nothing shows the sinkhole ran';
  if (first.t > fromMs) return `the sinkhole log shows it running only from ${first.time}, after ${iso(fromMs)}`;
  for (let i = 0; i + 1 < lines.length; i++) {
    const a = lines[i]!;
    const b = lines[i + 1]!;
    // Only a break overlapping the window matters.
    if (!(a.t < toMs && b.t > fromMs)) continue;
    if (a.event === 'stop') return `the sinkhole stopped at ${a.time} (${a.reason ?? 'no reason given'}) and ran again only from ${b.time}`;
    if (b.instance !== a.instance) return `the sinkhole restarted between ${a.time} and ${b.time} without a stop line (it crashed or was killed)`;
    if (b.t - a.t > livenessToleranceMs(a.heartbeatMs)) {
      return `the sinkhole log has no heartbeat between ${a.time} and ${b.time} (${((b.t - a.t) / 1000).toFixed(1)} s; one every ${a.heartbeatMs / 1000} s was promised)`;
    }
  }
  if (last.t < toMs) return `the sinkhole log ends at ${last.time}${last.event === 'stop' ? ` (stopped: ${last.reason ?? 'no reason given'})` : ''}, before ${iso(toMs)}`;
  return undefined;
}

/**
 * Whether the gateway forwarded in or before [fromMs, toMs), from its liveness lines (each says
 * which forwarding sysctls were on then): from the first line that says it forwarded, every
 * window is INCONCLUSIVE, and so is every window after the line before it (forwarding may have
 * been switched on any time since). A gateway that forwards lets the lab reach the outside, so its
 * sinkhole witnesses nothing: a connection it forwarded is in no log. Lines that do not say
 * (a sinkhole older than this check) cannot show it did not forward: undefined only when every
 * line up to the window's end says the host did not.
 */
export function forwardingProblem(liveness: readonly SinkholeLiveness[], fromMs: number, toMs: number): string | undefined {
  const lines = [...liveness].sort((a, b) => a.t - b.t);
  const i = lines.findIndex((l) => l.forwarding === undefined || l.forwarding.length > 0);
  if (i < 0) return undefined;
  const f = lines[i]!;
  const since = i > 0 ? lines[i - 1]!.t : f.t;
  if (since >= toMs) return undefined;
  if (f.forwarding === undefined) {
    return `the gateway sinkhole's liveness line at ${f.time} does not say whether the gateway forwarded (a sinkhole older than this Airlock; update it): nothing shows the gateway did not let the lab out`;
  }
  const before = i > 0 ? `; its line before, at ${lines[i - 1]!.time}, said it did not` : '';
  return `the gateway forwarded from ${f.time} (${f.forwarding.join(', ')}${before}): a gateway that forwards lets the lab reach the outside, so its sinkhole cannot witness this window`;
}
