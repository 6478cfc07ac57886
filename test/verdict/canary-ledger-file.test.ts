/**
 * A run directory's canaries.jsonl read back (src/verdict/canary-ledger.ts): hostile input, so
 * every line is checked, lines are bounded, the count must be the one result.json records, and
 * whatever is wrong is a CanaryLedgerError naming the line. Older result.json files with the
 * canaries inline still read.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CANARY_LEDGER_FILE,
  CanaryLedgerError,
  canariesForAnalysis,
  MAX_CANARY_LINE_BYTES,
  readCanaryLedger,
} from '../../src/verdict/canary-ledger.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-canary-file-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const canary = (seq: number, over: Record<string, unknown> = {}) => ({
  seq,
  target: seq % 2 ? 'lab' : 'outside',
  protocol: 'udp',
  src: '10.231.0.11',
  dst: seq % 2 ? '10.231.0.1' : '203.0.113.99',
  srcPort: 40000,
  dstPort: 47474,
  sentAtMs: 1700000000000 + seq * 10,
  host: 'drone',
  ...over,
});

let n = 0;
/** A run directory holding `text` as its canaries.jsonl. */
function runDir(text: string): string {
  const dir = path.join(root, `run-${++n}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, CANARY_LEDGER_FILE), text);
  return dir;
}
const lines = (records: unknown[]) => records.map((r) => JSON.stringify(r) + '\n').join('');
const record = (count: number) => ({ file: CANARY_LEDGER_FILE, count });

/** The error readCanaryLedger throws (failing the test when it throws none). */
function errorOf(dir: string, count: number): CanaryLedgerError {
  try {
    readCanaryLedger(dir, record(count));
  } catch (error) {
    expect(error).toBeInstanceOf(CanaryLedgerError);
    return error as CanaryLedgerError;
  }
  throw new Error('no error');
}

describe('canaries.jsonl', () => {
  it('reads every canary, in send order, across read chunks', () => {
    // 12,000 lines (about 2 MB): more than one 1 MiB chunk, lines split across chunk ends.
    const N = 12_000;
    const recs = Array.from({ length: N }, (_, i) => canary(N - i, { host: 'dröne-ü' }));
    const dir = runDir(lines(recs));
    const got = readCanaryLedger(dir, record(N)).toArray();
    expect(got).toHaveLength(N);
    expect(got.map((c) => c.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(got[0]).toEqual(canary(1, { host: 'dröne-ü' }));
  });

  it('an empty run: no file and a count of 0 is no canary; no file and a count is an error', () => {
    const dir = path.join(root, 'empty');
    fs.mkdirSync(dir);
    expect(readCanaryLedger(dir, record(0)).toArray()).toEqual([]);
    expect(() => readCanaryLedger(dir, record(3))).toThrow(/canaries\.jsonl cannot be read \(ENOENT\): result\.json records 3 canaries sent/);
  });

  it('a bad line is an error naming the line and what is wrong', () => {
    const good = lines([canary(1), canary(2)]);
    const cases: Array<[string, RegExp]> = [
      ['{"seq": 3,', /line 3: not JSON/],
      [JSON.stringify(canary(3, { seq: 1.5 })), /line 3: seq is not a non-negative integer/],
      [JSON.stringify(canary(3, { seq: '3' })), /line 3: seq is not a non-negative integer/],
      [JSON.stringify(canary(3, { host: 7 })), /line 3: host is not a name/],
      [JSON.stringify(canary(3, { target: 'moon' })), /line 3: target is not "lab" or "outside"/],
      [JSON.stringify(canary(3, { protocol: 'quic' })), /line 3: protocol is not one of udp, tcp, icmp, dns/],
      [JSON.stringify(canary(3, { dst: 'example.com' })), /line 3: dst is not an IP address/],
      [JSON.stringify(canary(3, { srcPort: 70000 })), /line 3: srcPort is not a port number/],
      [JSON.stringify(canary(3, { sentAtMs: 'soon' })), /line 3: sentAtMs is not a time/],
      [JSON.stringify(canary(3, { secret: 'ab' })), /line 3: unknown field "secret"/],
      ['[1,2,3]', /line 3: not a JSON object/],
      ['', /line 3: not JSON/],
    ];
    for (const [bad, why] of cases) {
      const e = errorOf(runDir(good + bad + '\n' + lines([canary(4)])), 4);
      expect(e.message, bad).toMatch(why);
      expect(e.code).toBe('AIRLOCK_CANARY_LEDGER');
    }
  });

  it('a count mismatch is an error: fewer lines than recorded (a truncated file), or more', () => {
    const dir = runDir(lines([canary(1), canary(2), canary(3)]));
    expect(errorOf(dir, 5).message).toBe('canaries.jsonl holds 3 canaries, result.json records 5 sent: the file is incomplete');
    expect(errorOf(dir, 2).message).toBe('canaries.jsonl holds more than the 2 canaries result.json records');
    // A last line cut short (a crash mid-write) is not read as a canary.
    const cut = lines([canary(1), canary(2)]) + JSON.stringify(canary(3)).slice(0, 30);
    expect(errorOf(runDir(cut), 3).message).toBe('canaries.jsonl line 3: cut short (no newline at the end)');
  });

  it('an oversize line is refused before it is parsed, even with no newline in the whole file', () => {
    const long = JSON.stringify(canary(2, { host: 'x'.repeat(MAX_CANARY_LINE_BYTES) }));
    expect(errorOf(runDir(lines([canary(1)]) + long + '\n'), 2).message).toBe(`canaries.jsonl line 2: longer than ${MAX_CANARY_LINE_BYTES} bytes`);
    // 3 MB without a newline: refused at the first chunk, not held whole.
    expect(errorOf(runDir('x'.repeat(3 << 20)), 1).message).toBe(`canaries.jsonl line 1: longer than ${MAX_CANARY_LINE_BYTES} bytes`);
  });

  it('result.json may name only a file in the run directory, and a count', () => {
    const dir = runDir(lines([canary(1)]));
    expect(() => readCanaryLedger(dir, { file: '../canaries.jsonl', count: 1 })).toThrow(/not a file name in the run directory/);
    expect(() => readCanaryLedger(dir, { file: '/etc/passwd', count: 1 })).toThrow(/not a file name in the run directory/);
    expect(() => readCanaryLedger(dir, { file: CANARY_LEDGER_FILE, count: -1 })).toThrow(/is not a count/);
  });

  it('canariesForAnalysis reads the file, or an older inline list as it is', () => {
    const dir = runDir(lines([canary(2), canary(1)]));
    const capturesFor = { drone: ['net-drone'] };
    const fromFile = canariesForAnalysis(dir, { secret: 's', file: CANARY_LEDGER_FILE, count: 2, capturesFor })!;
    expect({ ...fromFile, sent: fromFile.sent.toArray() }).toEqual({ secret: 's', sent: [canary(1), canary(2)], capturesFor });
    // An older inline list: its records in its own order (not sorted), fields it lacks left out.
    const old = { host: 'drone', seq: 3, target: 'lab' as const, sentAtMs: 1700000000000 };
    const inline = { secret: 's', sent: [canary(9) as never, old], capturesFor };
    const fromInline = canariesForAnalysis(dir, inline)!;
    expect({ ...fromInline, sent: fromInline.sent.toArray() }).toEqual({ ...inline, sent: [canary(9), old] });
    expect(fromInline.sent.get(1)).toStrictEqual(old);
    expect(canariesForAnalysis(dir, undefined)).toBeUndefined();
  });
});
