/**
 * The compact list of canaries sent (src/verdict/canary-list.ts) that the analysis after the run
 * holds instead of one object per canary: it gives back every record as canaries.jsonl held it,
 * in send order as a stable sort of the records would, at 38 bytes a canary; a count from a
 * hostile result.json allocates nothing by itself; and the checks that read it say the same as on
 * the plain list of records (the window's proof of sight, the gateway sinkhole's DNS canaries).
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CANARY_PORT, CANARY_TOLERANCE_MS, canaryDnsName, type SentCanary } from '../../src/analysis/canary.js';
import type { SinkholeLog } from '../../src/analysis/sinkhole-log.js';
import { CanaryList, CanaryListBuilder, canaryList } from '../../src/verdict/canary-list.js';
import { CANARY_LEDGER_FILE, CanaryLedgerError, readCanaryLedger } from '../../src/verdict/canary-ledger.js';
import { gatewayCanaryProblems, sentCanaryMatcher } from '../../src/verdict/sinkhole-witness.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-canary-list-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A small deterministic generator (the same records every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

const T0 = 1_800_000_000_000;
const PROTOCOLS = ['udp', 'tcp', 'icmp', 'dns'] as const;

/** `n` records of three injection points, send times with many ties, some without the optional fields (an older record). */
function records(n: number, seed = 1): SentCanary[] {
  const r = rng(seed);
  const out: SentCanary[] = [];
  const seqs = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const host = ['drone', 'controller', 'phone-ü'][Math.floor(r() * 3)]!;
    const seq = (seqs.get(host) ?? 0) + 1;
    seqs.set(host, seq);
    const c: SentCanary = { host, seq, target: r() < 0.5 ? 'lab' : 'outside', sentAtMs: T0 + Math.floor(r() * n * 10) };
    if (r() < 0.9) {
      c.protocol = PROTOCOLS[Math.floor(r() * 4)]!;
      c.src = r() < 0.5 ? '10.231.0.11' : 'fd0a:231::11';
      c.dst = c.src.includes(':') ? '2001:db8::99' : '203.0.113.99';
      c.srcPort = Math.floor(r() * 65536);
      c.dstPort = r() < 0.5 ? 53 : 47474;
    }
    out.push(c);
  }
  return out;
}

describe('CanaryList', () => {
  it('gives back every record as it was given, fields a record lacks left out', () => {
    const recs = records(5000);
    const list = CanaryList.of(recs);
    expect(list.length).toBe(5000);
    expect(list.toArray()).toStrictEqual(recs);
    expect(list.get(4321)).toStrictEqual(recs[4321]);
    expect(list.sentIn(T0, T0 + 10_000)).toEqual(recs.flatMap((c, i) => (c.sentAtMs < T0 + 10_000 ? [i] : [])));
  });

  it('sorted, it is in send order then sequence number, ties in the order given (as a stable sort of the records)', () => {
    const recs = records(20_000, 7).map((c) => ({ ...c, sentAtMs: T0 + (c.sentAtMs % 500) })); // 40 canaries a millisecond
    const b = new CanaryListBuilder(recs.length);
    for (const c of recs) b.add(c);
    const expected = [...recs].sort((x, y) => x.sentAtMs - y.sentAtMs || x.seq - y.seq);
    expect(b.build(true).toArray()).toStrictEqual(expected);
    // Already in order: the same list.
    const again = new CanaryListBuilder(0);
    for (const c of expected) again.add(c);
    expect(again.build(true).toArray()).toStrictEqual(expected);
  });

  it('holds 38 bytes a canary (an object per canary took about 180)', () => {
    const list = CanaryList.of(records(100_000, 3));
    expect(list.bytes / list.length).toBeLessThanOrEqual(38);
  });

  it("a hostile count in result.json allocates nothing by itself: the file's lines decide", () => {
    const dir = path.join(root, 'count');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, CANARY_LEDGER_FILE), JSON.stringify({ ...records(1)[0]!, protocol: 'udp', src: '10.231.0.11', dst: '10.231.0.1', srcPort: 1, dstPort: 2 }) + '\n');
    const count = Number.MAX_SAFE_INTEGER;
    expect(() => readCanaryLedger(dir, { file: CANARY_LEDGER_FILE, count })).toThrow(CanaryLedgerError);
    expect(() => readCanaryLedger(dir, { file: CANARY_LEDGER_FILE, count })).toThrow(`canaries.jsonl holds 1 canaries, result.json records ${count} sent: the file is incomplete`);
    // The builder grows past its first capacity as lines come.
    const b = new CanaryListBuilder(1);
    const recs = records(100, 5);
    for (const c of recs) b.add(c);
    expect(b.build().toArray()).toStrictEqual(recs);
  });

  it('a plain list is converted as it is now; a list is itself', () => {
    const recs = records(10);
    expect(canaryList(recs).toArray()).toStrictEqual(recs);
    recs.push(records(11)[10]!);
    expect(canaryList(recs).toArray()).toStrictEqual(recs);
    const list = CanaryList.of(recs);
    expect(canaryList(list)).toBe(list);
  });

  it("the gateway sinkhole's DNS canary check says the same on the list as on the plain records", () => {
    const secret = 'k';
    const recs = records(3000, 11).filter((c) => c.protocol !== undefined);
    const due = recs.filter((c) => c.protocol === 'dns' && c.target === 'outside');
    // The gateway logged two thirds of them, one of those 3 s late (its clock off).
    const logged = due.filter((_, i) => i % 3 !== 0);
    const log = {
      records: logged.map((c, i) => ({
        t: c.sentAtMs + (i === 5 ? 3000 : 10),
        proto: 'dns',
        name: canaryDnsName(secret, { runId: 'run', host: c.host, seq: c.seq, sentAtMs: c.sentAtMs, target: c.target, protocol: 'dns' }, { src: c.src!, dst: c.dst!, srcPort: c.srcPort!, dstPort: c.dstPort! }),
      })),
    } as unknown as SinkholeLog;
    const from = T0;
    const to = T0 + 30_000 * 10;
    const onList = gatewayCanaryProblems(log, { secret, sent: CanaryList.of(recs) }, ['10.231.0.1'], from, to);
    // The plain records through the check as it was before the list (a reference written out here).
    const reference = (() => {
      const inWindow = due.filter((c) => c.sentAtMs >= from && c.sentAtMs < to - 1000);
      const byKey = new Map(inWindow.map((c) => [`${c.host} ${c.seq}`, c]));
      const at = new Map<SentCanary, number>();
      for (const r of log.records) {
        const labels = r.name!.split('.');
        const c = byKey.get(`${labels[4]} ${labels[1]}`);
        if (c && !at.has(c)) at.set(c, r.t);
      }
      const missing = inWindow.filter((c) => !at.has(c));
      return { due: inWindow.length, missing: missing.length, first: missing[0]!, skewed: [...at].find(([c, t]) => Math.abs(t - c.sentAtMs) > 2000)! };
    })();
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(onList).toEqual([
      `the gateway sinkhole's log holds only ${reference.due - reference.missing} of the ${reference.due} DNS canaries sent to it in this window ` +
        `(first missing: #${reference.first.seq} from ${reference.first.host} to outside ${reference.first.dst} sent at ${iso(reference.first.sentAtMs)}): it was not receiving (no redirect, another gateway's log), so it cannot witness this window`,
      `the gateway's clock is off by 3.0 s from this host's (DNS canary #${reference.skewed[0].seq} from ${reference.skewed[0].host} sent at ${iso(reference.skewed[0].sentAtMs)}, logged at ${iso(reference.skewed[1])}): ` +
        `its log cannot be matched to the captures by time (NTP on both)`,
    ]);
    expect(gatewayCanaryProblems(log, { secret, sent: recs }, ['10.231.0.1'], from, to)).toEqual(onList);
  });

  it("the sinkhole's canary-port matcher finds a send near a record's time as a scan of every send did", () => {
    const r = rng(5);
    const recs = records(4000, 13).map((c) => (c.protocol === 'udp' || c.protocol === 'tcp' ? { ...c, dstPort: CANARY_PORT } : c));
    const isCanary = sentCanaryMatcher(CanaryList.of(recs));
    const sends = recs.filter((c) => (c.protocol === 'udp' || c.protocol === 'tcp') && c.src !== undefined);
    let hits = 0;
    for (let k = 0; k < 3000; k++) {
      const c = sends[Math.floor(r() * sends.length)]!;
      const rec = { proto: c.protocol!, src: c.src!, srcPort: c.srcPort!, dst: c.dst!, dstPort: CANARY_PORT, t: c.sentAtMs + Math.floor((r() - 0.5) * 20_000) };
      // The reference: any send of the tuple with the record within [t - tolerance, t + tolerance + 3 s].
      const expected = sends.some(
        (s) => s.protocol === rec.proto && s.src === rec.src && s.srcPort === rec.srcPort && s.dst === rec.dst && rec.t >= s.sentAtMs - CANARY_TOLERANCE_MS && rec.t <= s.sentAtMs + CANARY_TOLERANCE_MS + 3000,
      );
      expect(isCanary(rec), JSON.stringify(rec)).toBe(expected);
      if (expected) hits++;
    }
    expect(hits).toBeGreaterThan(300);
    expect(hits).toBeLessThan(2700);
  });
});
