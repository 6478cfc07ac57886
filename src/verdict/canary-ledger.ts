/**
 * The run directory's `canaries.jsonl`: one JSON line per canary sent (never the secret), written
 * by the sender as the run goes (src/devices/capture/canary-sender.ts), so an eight-hour run's
 * ~700,000 canaries stay out of result.json, which records only `{ secret, file, count,
 * capturesFor }` (docs/certifier/evidence.md). The analysis after the run and `verify`'s
 * re-analysis read the list back from it here, into a compact CanaryList (src/verdict/canary-list.ts:
 * typed arrays, about 38 bytes a canary instead of an object of about 180).
 *
 * The file is hostile input (a run directory comes from anywhere): it is read in chunks with a
 * bound on each line's length, every line is checked field by field, and the number of lines
 * must be the count result.json recorded. Anything else is a CanaryLedgerError naming the line,
 * never a stack trace; the caller turns it into an INCONCLUSIVE analysis or a failed re-analysis.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CANARY_PROTOCOLS, type SentCanary } from '../analysis/canary.js';
import { AirlockError } from '../errors.js';
import { CanaryList, CanaryListBuilder, canaryList } from './canary-list.js';

/** The file's name in the run directory. */
export const CANARY_LEDGER_FILE = 'canaries.jsonl';

/** The longest line accepted: a record is about 200 bytes; an injection point's name is short. */
export const MAX_CANARY_LINE_BYTES = 4096;

/** What result.json's `analysisInput.canaries` records. */
export interface CanaryFileRecord {
  secret: string;
  file: string;
  count: number;
  capturesFor: Record<string, string[]>;
}

/** Older result.json files carry the list inline (`sent`); they are still read. */
export interface InlineCanaryRecord {
  secret: string;
  sent: SentCanary[];
  capturesFor: Record<string, string[]>;
}

export class CanaryLedgerError extends AirlockError {
  constructor(message: string) {
    super('AIRLOCK_CANARY_LEDGER', message, 'input');
  }
}

const FIELDS = ['host', 'seq', 'target', 'protocol', 'src', 'dst', 'srcPort', 'dstPort', 'sentAtMs'] as const;
const isPort = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;

/** Why one parsed line is not a sent canary (undefined when it is one). */
function problemOf(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(FIELDS as readonly string[]).includes(k)) return `unknown field "${k.slice(0, 40)}"`;
  if (typeof o.host !== 'string' || o.host.length === 0 || o.host.length > 200) return 'host is not a name (a string of 1 to 200 characters)';
  if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 0) return 'seq is not a non-negative integer';
  if (o.target !== 'lab' && o.target !== 'outside') return 'target is not "lab" or "outside"';
  if (!(CANARY_PROTOCOLS as readonly unknown[]).includes(o.protocol)) return `protocol is not one of ${CANARY_PROTOCOLS.join(', ')}`;
  if (typeof o.src !== 'string' || net.isIP(o.src) === 0) return 'src is not an IP address';
  if (typeof o.dst !== 'string' || net.isIP(o.dst) === 0) return 'dst is not an IP address';
  if (!isPort(o.srcPort)) return 'srcPort is not a port number';
  if (!isPort(o.dstPort)) return 'dstPort is not a port number';
  if (typeof o.sentAtMs !== 'number' || !Number.isFinite(o.sentAtMs) || o.sentAtMs < 0) return 'sentAtMs is not a time (epoch ms)';
  return undefined;
}

/** One line checked: the canary it records, or a CanaryLedgerError naming the line. */
export function parseCanaryLine(line: string, lineNo: number, file = CANARY_LEDGER_FILE): SentCanary {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new CanaryLedgerError(`${file} line ${lineNo}: not JSON`);
  }
  const why = problemOf(v);
  if (why) throw new CanaryLedgerError(`${file} line ${lineNo}: ${why}`);
  return v as SentCanary;
}

/** The canaries as the analysis takes them (src/verdict/input.ts). */
export interface AnalysisCanaries {
  secret: string;
  sent: CanaryList;
  capturesFor: Record<string, string[]>;
}

/**
 * Every canary in `<runDir>/<record.file>`, in send order (by send time, then sequence number),
 * after checking each line and that there are exactly `record.count` of them.
 */
export function readCanaryLedger(runDir: string, record: Pick<CanaryFileRecord, 'file' | 'count'>): CanaryList {
  const name = record.file;
  // Only a plain file name in the run directory: result.json must not point anywhere else.
  if (typeof name !== 'string' || name !== path.basename(name) || name === '.' || name === '..' || name === '') {
    throw new CanaryLedgerError(`result.json names the canary file ${JSON.stringify(name)}: not a file name in the run directory`);
  }
  if (!Number.isSafeInteger(record.count) || record.count < 0) throw new CanaryLedgerError(`result.json's canary count ${JSON.stringify(record.count)} is not a count`);
  let fd: number;
  try {
    fd = fs.openSync(path.join(runDir, name), 'r');
  } catch (error) {
    // A run that sent no canary may have no file.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && record.count === 0) return new CanaryListBuilder().build();
    throw new CanaryLedgerError(`${name} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): result.json records ${record.count} canaries sent`);
  }
  // Each line's record is parsed, checked and stored in the list's arrays at once: no record outlives its line.
  const out = new CanaryListBuilder(record.count);
  try {
    // Lines are cut from the read buffer itself and decoded one by one: a line still open at a
    // chunk's end moves to the buffer's start (it is at most MAX_CANARY_LINE_BYTES).
    const buf = Buffer.alloc(1 << 20);
    let kept = 0;
    let lineNo = 0;
    const take = (line: string) => {
      lineNo++;
      if (out.length >= record.count) throw new CanaryLedgerError(`${name} holds more than the ${record.count} canaries result.json records`);
      out.add(parseCanaryLine(line, lineNo, name));
    };
    for (;;) {
      const n = fs.readSync(fd, buf, kept, buf.length - kept, null);
      if (n === 0) break;
      const chunk = buf.subarray(0, kept + n);
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
        if (nl - start > MAX_CANARY_LINE_BYTES) throw new CanaryLedgerError(`${name} line ${lineNo + 1}: longer than ${MAX_CANARY_LINE_BYTES} bytes`);
        take(chunk.toString('utf8', start, nl));
        start = nl + 1;
      }
      kept = chunk.length - start;
      if (kept > MAX_CANARY_LINE_BYTES) throw new CanaryLedgerError(`${name} line ${lineNo + 1}: longer than ${MAX_CANARY_LINE_BYTES} bytes`);
      chunk.copy(buf, 0, start);
    }
    if (kept > 0) throw new CanaryLedgerError(`${name} line ${lineNo + 1}: cut short (no newline at the end)`);
  } finally {
    fs.closeSync(fd);
  }
  if (out.length !== record.count) throw new CanaryLedgerError(`${name} holds ${out.length} canaries, result.json records ${record.count} sent: the file is incomplete`);
  return out.build(true);
}

/** The analysis input's canaries from what result.json (or the run) recorded: the file, or an older inline list. */
export function canariesForAnalysis(
  runDir: string,
  recorded: CanaryFileRecord | InlineCanaryRecord | undefined,
): AnalysisCanaries | undefined {
  if (!recorded) return undefined;
  if ('sent' in recorded && Array.isArray(recorded.sent)) return { secret: recorded.secret, sent: canaryList(recorded.sent), capturesFor: recorded.capturesFor };
  const r = recorded as CanaryFileRecord;
  return { secret: r.secret, sent: readCanaryLedger(runDir, r), capturesFor: r.capturesFor };
}
