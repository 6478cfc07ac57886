/**
 * The hand-written hot path keeps the answers of the plain code it replaced: the flow table
 * (two-way recent cache, hash-tagged slots, hot/cold records), the cached ISO time text and
 * the interned DNS / TLS names.
 */
import { describe, expect, it } from 'vitest';
import { FlowTable, R, C, Layout } from '../../src/analysis/flow-table.js';
import { isoTime } from '../../src/analysis/scan.js';
import { dnsQuestionName, dnsQuestionNameInterned, tlsServerName } from '../../src/analysis/app-names.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
}

describe('FlowTable', () => {
  it('finds every flow again, from either direction, among 60,000 (many sharing a recent-cache set)', () => {
    const t = new FlowTable();
    const next = rng(7);
    const flows: [number, number, number, number, number][] = [];
    for (let i = 0; i < 60_000; i++) flows.push([next(), next(), i % 3 === 0 ? 17 : 6, next() & 0xffff, next() & 0xffff]);
    const base: number[] = [];
    for (const [s, d, p, sp, dp] of flows) {
      base.push(t.lookup4(s, d, p, sp, dp));
      expect(t.created).toBe(true);
    }
    expect(t.size).toBe(60_000);
    expect(new Set(base).size).toBe(60_000);
    // Interleaved look-ups in both directions: same record, right direction, nothing created.
    const wrong: string[] = [];
    for (let k = 0; k < 200_000 && wrong.length < 5; k++) {
      const i = next() % flows.length;
      const [s, d, p, sp, dp] = flows[i]!;
      const rev = (k & 1) === 1;
      const r = rev ? t.lookup4(d, s, p, dp, sp) : t.lookup4(s, d, p, sp, dp);
      const [src, dst, sport, dport] = rev ? [d, s, dp, sp] : [s, d, sp, dp];
      const dir = src < dst || (src === dst && sport <= dport) ? 0 : 1;
      if (t.created || r !== base[i] || t.dir !== dir || t.u32[r + R.A0] !== Math.min(s, d)) {
        wrong.push(`flow ${i}: record ${r} (created at ${base[i]}), dir ${t.dir} (want ${dir}), created ${t.created}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('tells IPv6 flows apart by every address word (kept in the cold record)', () => {
    const t = new FlowTable();
    const set6 = (s: number[], d: number[]): number => {
      t.fam = 6;
      t.proto = 17;
      [t.s0, t.s1, t.s2, t.s3] = s;
      [t.d0, t.d1, t.d2, t.d3] = d;
      t.sp = 5000;
      t.dp = 53;
      return t.lookup();
    };
    const a = set6([0x20010db8, 0, 0, 1], [0x20010db8, 0, 0, 2]);
    const b = set6([0x20010db8, 0, 1, 1], [0x20010db8, 0, 0, 2]); // differs only in word 2
    const c = set6([0x20010db8, 0, 0, 1], [0x20010db8, 0, 0, 3]); // differs only in word 3
    expect(new Set([a, b, c]).size).toBe(3);
    expect(t.c32[b + C.B123 + 1]).toBe(1); // the source is the higher end here: end B
    expect(set6([0x20010db8, 0, 0, 1], [0x20010db8, 0, 0, 2])).toBe(a);
    expect(t.created).toBe(false);
    expect(a % Layout.STRIDE).toBe(0);
  });
});

describe('isoTime', () => {
  it('writes what Date.toISOString writes', () => {
    const next = rng(3);
    const values = [0, 0.4, 999.9, 1000, 1_767_225_600_000, 1_767_225_600_999.999, 1_767_225_601_000.5, 253402300799999, -1, -1500.5, 253402300800000];
    for (let i = 0; i < 2000; i++) values.push(1_700_000_000_000 + (next() % 100_000_000) + (next() % 1000) / 1000);
    for (const v of values) expect(isoTime(v)).toBe(new Date(v).toISOString());
  });
});

describe('interned names', () => {
  it('returns the same text as building the name, whatever the case of the bytes', () => {
    const q = (name: string): Buffer => {
      const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
      return Buffer.concat([Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
    };
    for (const n of ['Updates.Vendor.Example', 'updates.vendor.example', 'UPDATES.VENDOR.EXAMPLE', 'updates.vendor.exampl', 'a.b']) {
      const m = q(n);
      expect(dnsQuestionNameInterned(m, 0, m.length)).toBe(dnsQuestionName(m, 0, m.length));
    }
    const hello = (sni: string): Buffer => {
      const name = Buffer.from(sni, 'latin1');
      const ext = Buffer.concat([Buffer.from([0, 0, 0, name.length + 5, 0, name.length + 3, 0, 0, name.length]), name]);
      const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([0, 0, 2, 0x13, 1, 1, 0, 0, ext.length]), ext]);
      const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
      return Buffer.concat([Buffer.from([0x16, 3, 1, hs.length >> 8, hs.length & 0xff]), hs]);
    };
    const sni = (name: string): string | null => {
      const b = hello(name);
      return tlsServerName(b, 0, b.length);
    };
    expect(sni('Telemetry.Vendor.Example')).toBe('telemetry.vendor.example');
    expect(sni('telemetry.vendor.example')).toBe('telemetry.vendor.example');
    expect(sni('telemetry.vendor.exampla')).toBe('telemetry.vendor.exampla');
    expect(sni('TELEMETRY.VENDOR.EXAMPLE')).toBe('telemetry.vendor.example');
  });
});
