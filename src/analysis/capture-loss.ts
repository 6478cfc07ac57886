/**
 * TCP capture loss, estimated the way Zeek's capture-loss script does (policy/misc/capture-loss):
 * an ACK that acknowledges data the capture never saw is a gap; the estimate is gaps per ACK.
 * A capture that missed packets on a real bench (a mirror port over its bandwidth, a tap
 * dropping frames) shows here even when libpcap itself reports no drops.
 *
 * Hand-written and allocation-free (it runs on the scan's hot path, for TCP packets only): per
 * flow eight words (32 bytes, so one cache line) in one growing Int32Array indexed by flow id,
 * and six state bits that the caller keeps in the flow's own record (which the packet has just
 * read, so they cost no cache miss: a ninth word here made a record straddle two lines and the
 * meter cost about a tenth of the scan, docs/performance.md); sequence numbers compared in
 * serial-number arithmetic (RFC 1982), no object per packet. Its common cases (a direction
 * already seen, data in order or beyond the hole-free part, an ACK that acknowledges nothing
 * new) are written out in the scan's ip() on `state` (src/analysis/scan.ts), which calls
 * packet() for everything else; packet() itself takes every case.
 *
 * Per flow and direction: `next`, the end of the data seen without a hole; `hi`, the end of the
 * highest data seen (SYN and FIN take one sequence number each); at most one open hole, from
 * `next` to `holeEnd`; `ack`, the highest acknowledgement the other side sent for it. An ACK that
 * advances `ack` is an ACK event; one that also goes beyond `next` acknowledged bytes the capture
 * never saw (the hole, or data past `hi`): a gap, counted once, after which the counters move past
 * it. Only flows whose both directions are in the capture say anything. One hole per direction
 * keeps the state small: two holes under one ACK count as one gap, so the figure never overstates.
 * test/analysis/capture-loss-model.test.ts holds the meter to a plain model of these rules, count
 * for count after every segment, so a tuning that changes an answer fails there.
 */

/** Fewer ACK events than this in a capture and window: too few to say (docs/technician/proof-of-sight.md). */
export const CAPTURE_LOSS_MIN_ACKS = 100;

// Const enums: tsc writes the numbers into the code, where module constants are loaded from the
// module at run time; the shorter bytecode keeps packet() small (see there).
/** Words per flow, and word offsets (each a pair: side 0, side 1). */
export const enum LossWord {
  WORDS = 8,
  NEXT0 = 0,
  HI0 = 2,
  HOLE0 = 4,
  ACK0 = 6,
}
/**
 * The state bits the caller keeps for the meter (`packet` takes and returns them). A const enum:
 * an imported `const` is loaded from its module and checked on every use in the scan's ip().
 */
export const enum LossBit {
  ALL = 63,
  SEEN0 = 1, // a packet from side 0 was seen (SEEN0 << side)
  ACKED0 = 4, // side 0's data has been acknowledged once (ACKED0 << side)
  HOLE_OPEN0 = 16, // side 0's data has a hole from NEXT to HOLE
}

/**
 * The big-endian 32-bit word at `at`, as an int32. (A DataView over the packet buffer took fewer
 * instructions when packet() was the hot path; since the scan's ip() takes the common cases, the
 * view's re-creation for each new read buffer only deoptimized packet() and first().)
 */
function int32At(buf: Uint8Array, at: number): number {
  return (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
}

export interface CaptureLossCounts {
  /** ACKs that acknowledged new data of a direction the capture also holds. */
  acks: number;
  /** Of those, ACKs for data the capture never saw. */
  gaps: number;
  /** Bytes acknowledged but never seen. */
  gapBytes: number;
  /** TCP flows with both directions in the capture. */
  bothWays: number;
  /** TCP flows seen at all. */
  flows: number;
}

export class CaptureLossMeter {
  /**
   * The per-flow words (LossWord), exposed so that the scan's ip() can take the two common
   * cases itself (src/analysis/scan.ts); it only ever moves `next` and `hi` of a direction
   * already seen, never grows the array (a direction's first segment comes here).
   */
  state = new Int32Array(1024 * LossWord.WORDS);
  acks = 0;
  gaps = 0;
  gapBytes = 0;
  bothWays = 0;
  flows = 0;

  /**
   * One TCP segment (its header at `l4`) of flow `flow` from side `dir` (0 or 1); `len` is its
   * payload length. `bits` are the flow's state bits as this call last returned them (0 for a new
   * flow); returns them updated. Every argument is a small integer: a sequence number passed in
   * (a uint32, above V8's small-integer range half the time) was boxed on the heap at every call,
   * which cost more than the meter's own work (docs/performance.md), so it is read here.
   */
  packet(buf: Uint8Array, l4: number, len: number, flow: number, dir: number, bits: number): number {
    // The common path only: a direction's first segment, growing the array and a gap are out of
    // line. Sequence numbers are int32 (an Int32Array): a uint32 above 2^31 is a double to V8,
    // boxed where it crosses a call; "a after b" (RFC 1982) is ((a - b) | 0) > 0 written out (a
    // helper for it was not inlined at every call site and boxed its arguments there).
    // docs/performance.md has the figures.
    const o = flow * LossWord.WORDS;
    const s = this.state;
    // A flow's first segment grows the array (first()), so a direction seen has its words.
    if ((bits & (LossBit.SEEN0 << dir)) === 0) return this.first(buf, l4, len, flow, dir, bits);
    const flags = buf[l4 + 13]!;
    const seq = int32At(buf, l4 + 4);
    const end = (seq + len + ((flags >> 1) & 1) + (flags & 1)) | 0;
    if (end !== seq) {
      const n = o + dir; // LossWord.NEXT0 is 0
      const h = n + LossWord.HI0;
      const hb = LossBit.HOLE_OPEN0 << dir;
      const next = s[n]!;
      if (((seq - next) | 0) > 0) {
        // Beyond the hole-free part: a hole opens (or was open); only the highest end can move.
        if ((bits & hb) === 0) {
          bits |= hb;
          s[n + LossWord.HOLE0] = seq;
        }
        if (((end - s[h]!) | 0) > 0) s[h] = end;
      } else if ((bits & hb) === 0 && next === s[h]) {
        // In order, no hole: both ends move to the segment's end.
        if (((end - next) | 0) > 0) s[n] = s[h] = end;
      } else bits = this.data(o, dir, seq, end, bits);
    }
    // An ACK acknowledges the other side's data.
    const d = dir ^ 1;
    if ((flags & 0x10) !== 0 && (bits & (LossBit.SEEN0 << d)) !== 0) {
      const a = int32At(buf, l4 + 8);
      if ((bits & (LossBit.ACKED0 << d)) === 0 || ((a - s[o + LossWord.ACK0 + d]!) | 0) > 0) bits = this.ack(o, d, a, bits);
    }
    return bits;
  }

  /** A segment `seq`..`end` from side `dir` in order while a hole is open (or any other case the fast path does not take). */
  private data(o: number, dir: number, seq: number, end: number, bits: number): number {
    const s = this.state;
    const hb = LossBit.HOLE_OPEN0 << dir;
    const n = o + LossWord.NEXT0 + dir;
    const h = o + LossWord.HI0 + dir;
    let next = s[n]!;
    let hi = s[h]!;
    if (((seq - next) | 0) <= 0) {
      // In order (or a retransmission reaching into the hole): the hole-free part grows.
      if (((end - next) | 0) > 0) next = end;
      if ((bits & hb) !== 0 && ((s[o + LossWord.HOLE0 + dir]! - next) | 0) <= 0) {
        bits &= ~hb;
        if (((hi - next) | 0) > 0) next = hi;
      }
    } else if ((bits & hb) === 0) {
      bits |= hb;
      s[o + LossWord.HOLE0 + dir] = seq;
    }
    if (((end - hi) | 0) > 0) s[h] = hi = end;
    if ((bits & hb) === 0 && ((hi - next) | 0) > 0) next = hi;
    s[n] = next;
    return bits;
  }

  /** An acknowledgement `a` of side `d`'s data: the first one, or one that advanced (an ACK event; a gap when it acknowledges data not seen). */
  private ack(o: number, d: number, a: number, bits: number): number {
    const s = this.state;
    if ((bits & (LossBit.ACKED0 << d)) === 0) bits |= LossBit.ACKED0 << d;
    else {
      this.acks++;
      if (((a - s[o + LossWord.NEXT0 + d]!) | 0) > 0) bits = this.gap(o, d, a, bits);
    }
    s[o + LossWord.ACK0 + d] = a;
    return bits;
  }

  /** The first segment from side `dir` of a flow (or one that needs the array grown first). */
  private first(buf: Uint8Array, l4: number, len: number, flow: number, dir: number, bits: number): number {
    const o = flow * LossWord.WORDS;
    if (o + LossWord.WORDS > this.state.length) {
      const grown = new Int32Array(Math.max(this.state.length * 2, o + LossWord.WORDS));
      grown.set(this.state);
      this.state = grown;
    }
    const s = this.state;
    const flags = buf[l4 + 13]!;
    const seq = int32At(buf, l4 + 4);
    const end = (seq + len + ((flags >> 1) & 1) + (flags & 1)) | 0;
    if (bits === 0) this.flows++;
    else if ((bits & (LossBit.SEEN0 | (LossBit.SEEN0 << 1))) !== 0) this.bothWays++;
    bits |= LossBit.SEEN0 << dir;
    s[o + LossWord.NEXT0 + dir] = end;
    s[o + LossWord.HI0 + dir] = end;
    const d = dir ^ 1;
    if ((flags & 0x10) !== 0 && (bits & (LossBit.SEEN0 << d)) !== 0) {
      const a = int32At(buf, l4 + 8);
      if ((bits & (LossBit.ACKED0 << d)) === 0) bits |= LossBit.ACKED0 << d;
      else if (((a - s[o + LossWord.ACK0 + d]!) | 0) > 0) {
        this.acks++;
        if (((a - s[o + LossWord.NEXT0 + d]!) | 0) > 0) bits = this.gap(o, d, a, bits);
      } else return bits;
      s[o + LossWord.ACK0 + d] = a;
    }
    return bits;
  }

  /** An ACK `a` for side `d`'s data beyond what the capture saw of it without a hole: a gap. */
  private gap(o: number, d: number, a: number, bits: number): number {
    const s = this.state;
    const next = s[o + LossWord.NEXT0 + d]!;
    this.gaps++;
    const hi = s[o + LossWord.HI0 + d]!;
    const dHole = LossBit.HOLE_OPEN0 << d;
    if ((bits & dHole) !== 0) {
      const holeEnd = s[o + LossWord.HOLE0 + d]!;
      const pastHole = ((a - holeEnd) | 0) > 0;
      this.gapBytes += ((pastHole ? holeEnd : a) - next) >>> 0;
      if (pastHole || a === holeEnd) {
        bits &= ~dHole;
        s[o + LossWord.NEXT0 + d] = hi;
      } else s[o + LossWord.NEXT0 + d] = a;
    }
    if (((a - hi) | 0) > 0) {
      this.gapBytes += (a - hi) >>> 0;
      s[o + LossWord.HI0 + d] = a;
      s[o + LossWord.NEXT0 + d] = a;
    }
    return bits;
  }

  counts(): CaptureLossCounts {
    return { acks: this.acks, gaps: this.gaps, gapBytes: this.gapBytes, bothWays: this.bothWays, flows: this.flows };
  }
}
