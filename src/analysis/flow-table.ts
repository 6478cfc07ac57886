/**
 * Bidirectional flow table: open addressing on a hash of the canonical 5-tuple (the lower
 * (address, port) end first), so both directions of a conversation land in one flow.
 *
 * Each flow is a 64-byte hot record (one cache line: what every packet reads and writes) in one
 * ArrayBuffer and a 64-byte cold record in another (both seen as Uint32 and Float64 views): a
 * packet touches one cache line of its flow instead of one line per field, and the hot records
 * of the flows active at once take half the cache they took as 128-byte records. No object per flow on the hot
 * path; memory grows with distinct flows only.
 *
 * Callers set the packet's tuple in the scratch fields (fam, proto, s0..s3, d0..d3, sp, dp)
 * and call `lookup()`, which returns the record base (flow id * STRIDE) and sets `dir`
 * (0 when the packet's source is the flow's end A).
 */

import { releaseBuffers } from './release.js';

/** Words per flow record (hot part; the cold part has as many). */
export const STRIDE = 16;
// Word offsets inside a record (Uint32 view). The first 16 words (one cache line) hold what
// every packet touches (words 12-13: the last packet time, D.LAST_MS); the second line holds
// IPv6 address words and rarely used fields.
// Const enums: tsc writes the numbers into the code that uses them, where imported `const`
// bindings are loaded and checked (temporal dead zone) at run time on every use.
export const enum R {
  HASH = 0,
  FAMPROTO = 1, // fam << 8 | proto
  A0 = 2, // first word of end A's address
  B0 = 3,
  PORTS = 4, // portA << 16 | portB
  FLAGS = 5,
  INIT_DIR = 6,
  LABEL = 7,
  LAST = 8,
  COUNT = 9,
  REPLIES = 10,
  F_COUNT = 11,
  Q_RECORD = 14, // DNS record index + 1 (0: none): in the first line, as every DNS packet reads it
  SEARCHED = 15,
}
/** Float64 offsets inside a hot record (Float64 view index = flow * STRIDE / 2 + offset). */
export const enum D {
  LAST_MS = 6,
}
/**
 * Word offsets inside a flow's cold record (`c32`, same index as the hot record): what only
 * a flow's first packet, its findings, IPv6 packets and the reports read.
 */
export const enum C {
  A123 = 0, // words 1..3 of end A's address (IPv6)
  B123 = 3,
  F_LAST = 6,
  FIRST = 7,
  F_FIRST = 8,
  F_DIR = 9,
  MAC_HI = 10, // source MAC of the flow's first packet: 0x10000 | top 16 bits (0: none), then the low 32 bits
  MAC_LO = 11,
}
/** Float64 offsets inside a cold record (`c64`). */
export const enum CD {
  FIRST_MS = 6,
  F_FIRST_MS = 7,
}
/** Words per hot record and per cold record (a const enum member too, for the same reason). */
export const enum Layout {
  STRIDE = 16,
}

const INITIAL = 1024;
/** Sets of the recent-flow cache (two ways each). */
const RECENT_SETS = 4096;

export class FlowTable {
  // scratch tuple of the current packet
  fam = 4;
  proto = 0;
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  d0 = 0;
  d1 = 0;
  d2 = 0;
  d3 = 0;
  sp = 0;
  dp = 0;
  /** Direction of the last looked-up packet: 0 when its source is end A. */
  dir = 0;
  /** True when the last lookup created the flow (its record is zeroed). */
  created = false;

  size = 0;
  u32: Uint32Array = new Uint32Array(INITIAL * Layout.STRIDE);
  f64: Float64Array = new Float64Array(this.u32.buffer);
  /** Cold records (see C, CD), apart so that the hot ones of active flows share less cache. */
  c32: Uint32Array = new Uint32Array(INITIAL * Layout.STRIDE);
  c64: Float64Array = new Float64Array(this.c32.buffer);
  /**
   * Open-addressing slots, two words each: flow id + 1 (0: empty) and the flow's hash, so a
   * probe compares hashes inside this array and loads a record only when the hash matches.
   */
  private slots = new Int32Array(INITIAL * 2 * 2);
  private mask = INITIAL * 2 - 1;
  /**
   * Two-way set-associative cache of recently used flows, four words per set: (flow id + 1,
   * hash) of the most recent way, then of the other. 64 KiB, so it stays in the CPU cache:
   * nearly every packet finds its flow here (the hash tag rejects a way without loading its
   * record) instead of probing the big slot array, whose loads miss the cache.
   */
  private readonly recent = new Int32Array(RECENT_SETS * 4);

  /** Makes flow `f` the most recent way of its set. */
  private remember(set: number, f: number, hs: number): void {
    const rc = this.recent;
    if (rc[set] !== f + 1) {
      rc[set + 2] = rc[set]!;
      rc[set + 3] = rc[set + 1]!;
      rc[set] = f + 1;
      rc[set + 1] = hs;
    }
  }

  /**
   * IPv4 fast path of lookup(): the tuple as arguments. Only the hash and the most recent way of
   * the recent-flow cache are here, so that the function stays under TurboFan's inlining limit
   * (460 bytes of bytecode) and the scan's ip() takes it in (a call per packet, with ip()'s live
   * values spilled around it, cost more than the look-up; docs/performance.md); the other way,
   * the slot array and a new flow are in lookup4Rest().
   */
  lookup4(s: number, d: number, proto: number, sp: number, dp: number): number {
    let a0: number, b0: number, ports: number;
    // Every compare runs on every call: one reached only for a flow between an address and
    // itself has no type feedback until then, and its first use deoptimized ip(), where this
    // is inlined, for a second TurboFan compile (about 10 ms, docs/performance.md).
    const portsInOrder = sp <= dp;
    if (s < d || (s === d && portsInOrder)) {
      a0 = s;
      b0 = d;
      ports = ((sp << 16) | dp) >>> 0;
      this.dir = 0;
    } else {
      a0 = d;
      b0 = s;
      ports = ((dp << 16) | sp) >>> 0;
      this.dir = 1;
    }
    const famProto = 0x400 | proto;
    let h = Math.imul(famProto, 0x9e3779b1);
    h = Math.imul(h ^ a0, 0x85ebca6b);
    h = Math.imul(h ^ b0, 0xc2b2ae35);
    h = Math.imul(h ^ ports, 0x27d4eb2f);
    h = h ^ (h >>> 15);
    const set = (h & (RECENT_SETS - 1)) << 2;
    const f = this.recent[set]! - 1;
    if (this.recent[set + 1] === h && f >= 0) {
      const u = this.u32;
      const r = f * Layout.STRIDE;
      if (u[r + R.A0] === a0 && u[r + R.B0] === b0 && u[r + R.PORTS] === ports && u[r + R.FAMPROTO] === famProto) {
        this.created = false;
        return r;
      }
    }
    // The addresses as int32: a uint32 above 2^31 is a double to V8, boxed when passed to a call.
    return this.lookup4Rest(s | 0, d | 0, proto, sp, dp, h);
  }

  /** lookup4() past the recent cache's most recent way (`si`, `di`: the addresses as int32; `hs`: the hash as an int32). */
  private lookup4Rest(si: number, di: number, proto: number, sp: number, dp: number, hs: number): number {
    const s = si >>> 0;
    const d = di >>> 0;
    let a0: number, b0: number, ports: number;
    if (this.dir === 0) {
      a0 = s;
      b0 = d;
      ports = ((sp << 16) | dp) >>> 0;
    } else {
      a0 = d;
      b0 = s;
      ports = ((dp << 16) | sp) >>> 0;
    }
    const famProto = 0x400 | proto;
    const h = hs >>> 0;
    const u = this.u32;
    const rc = this.recent;
    const set = (h & (RECENT_SETS - 1)) << 2;
    if (rc[set + 3] === hs && rc[set + 2]! > 0) {
      const f = rc[set + 2]! - 1;
      const r = f * Layout.STRIDE;
      if (u[r + R.A0] === a0 && u[r + R.B0] === b0 && u[r + R.PORTS] === ports && u[r + R.FAMPROTO] === famProto) {
        this.created = false;
        this.remember(set, f, hs);
        return r;
      }
    }
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    for (;;) {
      const f = slots[2 * i]! - 1;
      if (f < 0) break;
      // The slot's own copy of the hash rejects other flows without loading their (cold) record.
      if (slots[2 * i + 1] === hs) {
        const r = f * Layout.STRIDE;
        if (u[r + R.A0] === a0 && u[r + R.B0] === b0 && u[r + R.PORTS] === ports && u[r + R.FAMPROTO] === famProto) {
          this.created = false;
          this.remember(set, f, hs);
          return r;
        }
      }
      i = (i + 1) & mask;
    }
    this.fam = 4;
    this.proto = proto;
    this.s0 = s;
    this.d0 = d;
    this.s1 = this.s2 = this.s3 = this.d1 = this.d2 = this.d3 = 0;
    this.sp = sp;
    this.dp = dp;
    return this.insert(hs, famProto, a0 | 0, 0, 0, 0, b0 | 0, 0, 0, 0, ports | 0, i);
  }

  lookup(): number {
    // Canonical order: A is the lower (words, port) end.
    let swap: boolean;
    if (this.s0 !== this.d0) swap = this.s0 > this.d0;
    else if (this.s1 !== this.d1) swap = this.s1 > this.d1;
    else if (this.s2 !== this.d2) swap = this.s2 > this.d2;
    else if (this.s3 !== this.d3) swap = this.s3 > this.d3;
    else swap = this.sp > this.dp;
    let a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number, ports: number;
    if (swap) {
      a0 = this.d0; a1 = this.d1; a2 = this.d2; a3 = this.d3;
      b0 = this.s0; b1 = this.s1; b2 = this.s2; b3 = this.s3;
      ports = ((this.dp << 16) | this.sp) >>> 0;
    } else {
      a0 = this.s0; a1 = this.s1; a2 = this.s2; a3 = this.s3;
      b0 = this.d0; b1 = this.d1; b2 = this.d2; b3 = this.d3;
      ports = ((this.sp << 16) | this.dp) >>> 0;
    }
    this.dir = swap ? 1 : 0;
    const famProto = (this.fam << 8) | this.proto;
    let h = Math.imul(famProto, 0x9e3779b1);
    h = Math.imul(h ^ a0, 0x85ebca6b);
    h = Math.imul(h ^ b0, 0xc2b2ae35);
    h = Math.imul(h ^ ports, 0x27d4eb2f);
    if (this.fam === 6) {
      h = Math.imul(h ^ a1 ^ (b1 << 1), 0x85ebca6b);
      h = Math.imul(h ^ a2 ^ (b2 << 1), 0xc2b2ae35);
      h = Math.imul(h ^ a3 ^ (b3 << 1), 0x27d4eb2f);
    }
    h = (h ^ (h >>> 15)) >>> 0;
    const u = this.u32;
    const c = this.c32;
    const hs = h | 0;
    const rc = this.recent;
    const set = (h & (RECENT_SETS - 1)) << 2;
    for (let way = 0; way < 4; way += 2) {
      if (rc[set + way + 1] !== hs || rc[set + way]! === 0) continue;
      const f = rc[set + way]! - 1;
      const r = f * Layout.STRIDE;
      if (
        u[r + R.A0] === a0 && u[r + R.B0] === b0 && u[r + R.PORTS] === ports && u[r + R.FAMPROTO] === famProto &&
        (famProto < 0x600 ||
          (c[r + C.A123] === a1 && c[r + C.A123 + 1] === a2 && c[r + C.A123 + 2] === a3 &&
            c[r + C.B123] === b1 && c[r + C.B123 + 1] === b2 && c[r + C.B123 + 2] === b3))
      ) {
        this.created = false;
        if (way !== 0) this.remember(set, f, hs);
        return r;
      }
    }
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    for (;;) {
      const f = slots[2 * i]! - 1;
      if (f < 0) break;
      const r = f * Layout.STRIDE;
      if (
        slots[2 * i + 1] === hs && u[r + R.A0] === a0 && u[r + R.B0] === b0 && u[r + R.PORTS] === ports && u[r + R.FAMPROTO] === famProto &&
        (famProto < 0x600 ||
          (c[r + C.A123] === a1 && c[r + C.A123 + 1] === a2 && c[r + C.A123 + 2] === a3 &&
            c[r + C.B123] === b1 && c[r + C.B123 + 1] === b2 && c[r + C.B123 + 2] === b3))
      ) {
        this.created = false;
        this.remember(set, f, hs);
        return r;
      }
      i = (i + 1) & mask;
    }
    return this.insert(hs, famProto, a0 | 0, a1 | 0, a2 | 0, a3 | 0, b0 | 0, b1 | 0, b2 | 0, b3 | 0, ports | 0, i);
  }

  /**
   * A new flow. The hash, address words and ports come as int32 (stored into the Uint32Arrays
   * with the same bits): a uint32 above 2^31 is a double to V8, boxed when passed, and the
   * first such hash after insert() was optimized deoptimized it (docs/performance.md).
   */
  private insert(hs: number, famProto: number, a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number, ports: number, i: number): number {
    if ((this.size + 1) * Layout.STRIDE > this.u32.length) this.grow();
    const f = this.size++;
    const r = f * Layout.STRIDE;
    const v = this.u32;
    v[r] = hs;
    v[r + R.FAMPROTO] = famProto;
    const c = this.c32;
    v[r + R.A0] = a0; c[r + C.A123] = a1; c[r + C.A123 + 1] = a2; c[r + C.A123 + 2] = a3;
    v[r + R.B0] = b0; c[r + C.B123] = b1; c[r + C.B123 + 1] = b2; c[r + C.B123 + 2] = b3;
    v[r + R.PORTS] = ports;
    if (this.size * 2 > this.mask + 1) {
      this.rehash();
      this.place(f + 1, hs);
    } else {
      this.slots[2 * i] = f + 1;
      this.slots[2 * i + 1] = hs;
    }
    this.remember((hs & (RECENT_SETS - 1)) << 2, f, hs);
    this.created = true;
    return r;
  }

  private grow(): void {
    const u = new Uint32Array(this.u32.length * 2);
    u.set(this.u32);
    this.u32 = u;
    this.f64 = new Float64Array(u.buffer);
    const c = new Uint32Array(this.c32.length * 2);
    c.set(this.c32);
    this.c32 = c;
    this.c64 = new Float64Array(c.buffer);
  }

  /**
   * Frees the look-up index (the slot array, 16 to 32 bytes per flow: 4 MiB at 200,000 flows) once no
   * packet will come; the records stay for reading (release.ts, docs/performance.md). A look-up
   * afterwards that misses the recent-flow cache throws (rehash()) rather than adding a flow.
   */
  endLookups(): void {
    releaseBuffers(this.slots);
    this.slots = new Int32Array(2);
    this.mask = 0;
  }

  /** Puts (flow id + 1, hash) in the first free slot from the hash's home. */
  private place(id: number, hs: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = hs & mask;
    while (slots[2 * i] !== 0) i = (i + 1) & mask;
    slots[2 * i] = id;
    slots[2 * i + 1] = hs;
  }

  /**
   * Doubles the slot array. The old slots are walked in order and carry their hashes, so no
   * record is read, and each entry's new home is its old home or that plus the old size: the
   * writes run along two sequential streams instead of jumping across the new array.
   */
  private rehash(): void {
    if (this.mask === 0) throw new Error('flow table: a look-up after endLookups()');
    const old = this.slots;
    this.mask = (this.mask + 1) * 2 - 1;
    this.slots = new Int32Array((this.mask + 1) * 2);
    for (let j = 0; j < old.length; j += 2) {
      const id = old[j]!;
      if (id !== 0) this.place(id, old[j + 1]!);
    }
  }
}
