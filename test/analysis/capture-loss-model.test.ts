/**
 * The hand-written capture-loss meter (src/analysis/capture-loss.ts) keeps the answers of a plain
 * model of the same rules: per flow and direction an object with `next`, `hi`, the open hole and
 * the last ACK, sequence numbers as uint32 compared with a readable `after()`. The meter is tuned
 * for V8 (int32 words, its common path apart from its rare ones, its common cases written out in
 * the scan's ip(); docs/performance.md); a tuning that changed one count (a gap missed reads a lossy
 * capture as whole: a false PASS) fails here on the packet where it first differs. The segments
 * are seeded random: in order, retransmitted, the skipped data filled in, past a hole, anywhere;
 * sequence numbers starting near 2^31 and 2^32 so they wrap; thousands of flows, made in order,
 * so the meter's array grows; the packet buffer replaced and offset now and then.
 */
import { describe, expect, it } from 'vitest';
import { CaptureLossMeter, type CaptureLossCounts } from '../../src/analysis/capture-loss.js';
import type { CapturePacket } from '../../src/analysis/capture-reader.js';
import { NetworkScanner } from '../../src/analysis/scan.js';

/** a after b in sequence space (RFC 1982). */
const after = (a: number, b: number): boolean => ((a - b) | 0) > 0;

interface Side {
  seen: boolean;
  acked: boolean;
  holeOpen: boolean;
  next: number;
  hi: number;
  holeEnd: number;
  ack: number;
}

/** The meter's rules written plainly (its header comment states them). */
class Model {
  readonly counts: CaptureLossCounts = { acks: 0, gaps: 0, gapBytes: 0, bothWays: 0, flows: 0 };
  /** How often each rule applied, so the test can check the segments reached every one. */
  readonly cases = { inOrder: 0, holeOpened: 0, holeFilled: 0, gapInHole: 0, gapPastHi: 0 };
  private readonly flows = new Map<number, [Side, Side]>();

  packet(flow: number, dir: number, seq: number, ack: number, flags: number, len: number): void {
    let sides = this.flows.get(flow);
    if (!sides) {
      const side = (): Side => ({ seen: false, acked: false, holeOpen: false, next: 0, hi: 0, holeEnd: 0, ack: 0 });
      sides = [side(), side()];
      this.flows.set(flow, sides);
      this.counts.flows++;
    }
    const me = sides[dir]!;
    const end = (seq + len + (flags & 0x02 ? 1 : 0) + (flags & 0x01 ? 1 : 0)) >>> 0;
    if (!me.seen) {
      if (sides[0]!.seen || sides[1]!.seen) this.counts.bothWays++;
      me.seen = true;
      me.next = me.hi = end;
    } else if (end !== seq) {
      if (!after(seq, me.next)) {
        this.cases.inOrder++;
        if (after(end, me.next)) me.next = end;
        if (me.holeOpen && !after(me.holeEnd, me.next)) {
          this.cases.holeFilled++;
          me.holeOpen = false;
          if (after(me.hi, me.next)) me.next = me.hi;
        }
      } else if (!me.holeOpen) {
        this.cases.holeOpened++;
        me.holeOpen = true;
        me.holeEnd = seq;
      }
      if (after(end, me.hi)) me.hi = end;
      if (!me.holeOpen && after(me.hi, me.next)) me.next = me.hi;
    }
    const other = sides[dir ^ 1]!;
    if ((flags & 0x10) === 0 || !other.seen) return;
    if (!other.acked) {
      other.acked = true;
      other.ack = ack;
      return;
    }
    if (!after(ack, other.ack)) return;
    this.counts.acks++;
    if (after(ack, other.next)) {
      this.counts.gaps++;
      const next = other.next;
      if (other.holeOpen) {
        this.cases.gapInHole++;
        this.counts.gapBytes += ((after(ack, other.holeEnd) ? other.holeEnd : ack) - next) >>> 0;
        if (after(ack, other.holeEnd) || ack === other.holeEnd) {
          other.holeOpen = false;
          other.next = other.hi;
        } else other.next = ack;
      }
      if (after(ack, other.hi)) {
        this.cases.gapPastHi++;
        this.counts.gapBytes += (ack - other.hi) >>> 0;
        other.hi = other.next = ack;
      }
    }
    other.ack = ack;
  }
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/**
 * The scan as the meter's caller: each segment as a raw IPv4/TCP packet (link type 228, cut
 * after the TCP header; its payload length from the IP total length, as a capture with a short
 * snaplen holds it) to a NetworkScanner, whose ip() takes the meter's common cases itself
 * (src/analysis/scan.ts) and hands it the rest. Flow `f` is 10.0.x.y <-> 10.1.x.y, side 0 the
 * lower address, as the flow table orders them.
 */
/**
 * How ViaScanner frames a segment: IPv4 in 10.0.0.0/8 with ports 40000 and 8080; IPv4 between
 * 192.168.0.0/16 and 250.1.0.0/16 with ports 50000 and 33000 (every address word and port has its
 * high bit set, so each is a uint32 or port above int32's or int16's sign bit in the flow table
 * and the scan); or IPv6 between fd00::/16 and 2001:db8::/32 behind a hop-by-hop header (the
 * TCP header found after ip()'s extension-header walk, the length from the payload length).
 */
type Framing = 'v4' | 'v4-high' | 'v6-ext';

class ViaScanner {
  private readonly scanner = new NetworkScanner({ lab: ['10.0.0.0/8'] });
  private readonly feed = this.scanner.file('loss.pcap');
  private index = 0;

  constructor(private readonly framing: Framing = 'v4') {}

  packet(buf: Buffer, l4: number, len: number, flow: number, dir: number): void {
    const hi = (flow >> 8) & 255;
    const lo = flow & 255;
    const v6 = this.framing === 'v6-ext';
    const ip = l4 - (v6 ? 48 : 20);
    const [sport, dport] = this.framing === 'v4-high' ? [50000, 33000] : [40000, 8080];
    if (v6) {
      const a = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0xf0, 0, hi, lo];
      const b = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0, hi, lo];
      buf.writeUInt32BE(0x60000000, ip);
      buf.writeUInt16BE(8 + 20 + len, ip + 4);
      buf[ip + 6] = 0; // hop-by-hop options
      buf[ip + 7] = 64;
      buf.set(dir === 0 ? a : b, ip + 8);
      buf.set(dir === 0 ? b : a, ip + 24);
      buf.set([6, 0, 1, 4, 0, 0, 0, 0], ip + 40); // next header TCP, length 0 (8 bytes), PadN
    } else {
      const a = this.framing === 'v4-high' ? [192, 168, hi, lo] : [10, 0, hi, lo];
      const b = this.framing === 'v4-high' ? [250, 1, hi, lo] : [10, 1, hi, lo];
      buf[ip] = 0x45;
      buf[ip + 1] = 0;
      buf.writeUInt16BE(40 + len, ip + 2);
      buf.writeUInt32BE(0, ip + 4);
      buf[ip + 8] = 64;
      buf[ip + 9] = 6;
      buf.writeUInt16BE(0, ip + 10);
      buf.set(dir === 0 ? a : b, ip + 12);
      buf.set(dir === 0 ? b : a, ip + 16);
    }
    buf.writeUInt16BE(dir === 0 ? sport : dport, l4);
    buf.writeUInt16BE(dir === 0 ? dport : sport, l4 + 2);
    const caplen = l4 + 20 - ip;
    const i = ++this.index;
    const p: CapturePacket = {
      index: i,
      timeMs: 1_700_000_000_000 + i,
      sec: 0,
      nsec: 0,
      linkType: v6 ? 229 : 228,
      interfaceId: 0,
      buf,
      offset: ip,
      caplen,
      origLen: caplen + len,
      fileOffset: 0,
      frame: () => buf.subarray(ip, ip + caplen),
    };
    this.feed(p);
  }

  counts(): CaptureLossCounts {
    return this.scanner.lossCounts('loss.pcap')!;
  }
}

/**
 * Runs `packets` random segments over `flowCount` flows through the meter (or the scan in front
 * of it) and the model; returns the first packet where they differ.
 */
function compare(seed: number, flowCount: number, packets: number, model: Model, via: 'meter' | 'scanner' = 'meter', framing: Framing = 'v4'): { at: number; meter: CaptureLossCounts; model: CaptureLossCounts } | undefined {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const meter = new CaptureLossMeter();
  const scanner = via === 'scanner' ? new ViaScanner(framing) : undefined;
  const bits = new Array<number>(flowCount).fill(0);
  const isn = Array.from({ length: flowCount }, () =>
    [0, 1].map(() => [2 ** 32 - 1 - int(5000), 2 ** 31 - 1 - int(5000), int(2 ** 32), int(2 ** 32)][int(4)]!),
  );
  const sent = Array.from({ length: flowCount }, () => [0, 0]);
  /** The data a side skipped last (sent past a hole), so that a later segment can fill it: [from, to). */
  const skipped = Array.from({ length: flowCount }, () => [[0, 0], [0, 0]]);
  let whole = Buffer.alloc(4096);
  let offset = 0;
  let active = 0;
  for (let i = 0; i < packets; i++) {
    if (r() < 0.01) whole = Buffer.alloc(4096);
    if (r() < 0.01) offset = int(64);
    const buf = offset ? whole.subarray(offset) : whole;
    // Flow ids are made in order, as the flow table makes them: a new flow every 20 packets.
    const flow = i % 20 === 0 && active < flowCount ? active++ : int(active);
    const dir = int(2);
    const l4 = 48 + int(100); // room for an IPv6 header and a hop-by-hop header before it
    let len = r() < 0.3 ? 0 : 1 + int(1460);
    // In order, a retransmission, the skipped data sent at last, past a hole, anywhere.
    const kind = int(10);
    const high = sent[flow]![dir]!;
    const hole = skipped[flow]![dir]!;
    let rel: number;
    if (kind < 5) rel = high;
    else if (kind < 6) rel = Math.max(0, high - int(5000));
    else if (kind < 7) {
      rel = hole[0]!;
      len = hole[1]! - hole[0]!;
    } else if (kind < 9) {
      rel = high + 1 + int(3000);
      skipped[flow]![dir] = [high, rel];
    } else rel = int(2 ** 32);
    if (kind < 9) sent[flow]![dir] = Math.max(high, rel + len);
    const flags = (r() < 0.05 ? 0x02 : 0) | (r() < 0.03 ? 0x01 : 0) | (r() < 0.8 ? 0x10 : 0);
    const otherHigh = sent[flow]![dir ^ 1]!;
    const ackKind = int(10);
    const ackRel = ackKind < 6 ? otherHigh : ackKind < 8 ? Math.max(0, otherHigh - int(3000)) : ackKind < 9 ? otherHigh + int(3000) : int(2 ** 32);
    const seq = (isn[flow]![dir]! + rel) >>> 0;
    const ack = (isn[flow]![dir ^ 1]! + ackRel) >>> 0;
    buf.writeUInt32BE(seq, l4 + 4);
    buf.writeUInt32BE(ack, l4 + 8);
    buf[l4 + 12] = 0x50;
    buf[l4 + 13] = flags;
    if (scanner) scanner.packet(buf, l4, len, flow, dir);
    else bits[flow] = meter.packet(buf, l4, len, flow, dir, bits[flow]!);
    model.packet(flow, dir, seq, ack, flags, len);
    const m = scanner ? scanner.counts() : meter.counts();
    const c = model.counts;
    if (m.acks !== c.acks || m.gaps !== c.gaps || m.gapBytes !== c.gapBytes || m.bothWays !== c.bothWays || m.flows !== c.flows) {
      return { at: i, meter: m, model: { ...c } };
    }
  }
  return undefined;
}

describe('capture-loss meter against a plain model', () => {
  it('the same counts after every segment: few flows (holes, wrap-around, retransmissions)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const model = new Model();
      expect(compare(seed, 1 + (seed % 8), 5000, model)).toBeUndefined();
      expect(model.counts.gaps).toBeGreaterThan(0);
      expect(model.counts.bothWays).toBeGreaterThan(0);
      for (const [name, n] of Object.entries(model.cases)) expect(n, name).toBeGreaterThan(0);
    }
  });

  it('the same counts after every segment: 3,000 flows (the meter grows its array)', () => {
    const model = new Model();
    expect(compare(99, 3000, 100_000, model)).toBeUndefined();
    expect(model.counts.flows).toBe(3000);
    expect(model.counts.gaps).toBeGreaterThan(0);
  });

  it('the same counts after every segment through the scan, whose ip() takes the common cases itself', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const model = new Model();
      expect(compare(seed, 1 + (seed % 8), 5000, model, 'scanner')).toBeUndefined();
      expect(model.counts.gaps).toBeGreaterThan(0);
      for (const [name, n] of Object.entries(model.cases)) expect(n, name).toBeGreaterThan(0);
    }
    const model = new Model();
    expect(compare(99, 3000, 100_000, model, 'scanner')).toBeUndefined();
    expect(model.counts.flows).toBe(3000);
  });

  it('the same counts through the scan with every address word and port above the sign bit, and over IPv6 behind a hop-by-hop header', () => {
    for (const framing of ['v4-high', 'v6-ext'] as const) {
      for (let seed = 1; seed <= 5; seed++) {
        const model = new Model();
        expect(compare(seed, 1 + (seed % 8), 5000, model, 'scanner', framing), `${framing} seed ${seed}`).toBeUndefined();
        expect(model.counts.gaps).toBeGreaterThan(0);
        for (const [name, n] of Object.entries(model.cases)) expect(n, name).toBeGreaterThan(0);
      }
      const model = new Model();
      expect(compare(99, 3000, 100_000, model, 'scanner', framing), `${framing} 3,000 flows`).toBeUndefined();
      expect(model.counts.flows).toBe(3000);
    }
  });
});
