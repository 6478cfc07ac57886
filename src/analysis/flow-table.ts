/**
 * Bidirectional flow table in typed arrays: open addressing on a hash of the canonical
 * 5-tuple (the lower (address, port) end first), so both directions of a conversation land in
 * one flow. No object per flow on the hot path; memory grows with distinct flows only.
 *
 * Callers set the packet's tuple in the scratch fields (fam, proto, s0..s3, d0..d3, sp, dp)
 * and call `lookup()`, which returns the flow id and sets `dir` (0: src is the flow's A end).
 */

const INITIAL = 1024;

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
  /** True when the last lookup created the flow. */
  created = false;

  size = 0;
  private slots = new Int32Array(INITIAL * 2);
  private mask = INITIAL * 2 - 1;
  /** Per flow: family (4/6), protocol, ends A and B (4 words each), ports. */
  famOf = new Uint8Array(INITIAL);
  protoOf = new Uint8Array(INITIAL);
  addr = new Uint32Array(INITIAL * 8);
  ports = new Uint16Array(INITIAL * 2);
  private hashOf = new Int32Array(INITIAL);
  private onGrow: (cap: number) => void;

  constructor(onGrow: (cap: number) => void) {
    this.onGrow = onGrow;
  }

  get capacity(): number {
    return this.famOf.length;
  }

  clear(): void {
    this.size = 0;
    this.slots.fill(0);
  }

  lookup(): number {
    // Canonical order: A is the lower (words, port) end.
    let swap = false;
    if (this.s0 !== this.d0) swap = this.s0 > this.d0;
    else if (this.s1 !== this.d1) swap = this.s1 > this.d1;
    else if (this.s2 !== this.d2) swap = this.s2 > this.d2;
    else if (this.s3 !== this.d3) swap = this.s3 > this.d3;
    else swap = this.sp > this.dp;
    let a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number, ap: number, bp: number;
    if (swap) {
      a0 = this.d0; a1 = this.d1; a2 = this.d2; a3 = this.d3; ap = this.dp;
      b0 = this.s0; b1 = this.s1; b2 = this.s2; b3 = this.s3; bp = this.sp;
    } else {
      a0 = this.s0; a1 = this.s1; a2 = this.s2; a3 = this.s3; ap = this.sp;
      b0 = this.d0; b1 = this.d1; b2 = this.d2; b3 = this.d3; bp = this.dp;
    }
    this.dir = swap ? 1 : 0;
    let h = Math.imul(this.fam * 256 + this.proto, 0x9e3779b1);
    h = Math.imul(h ^ a0, 0x85ebca6b);
    h = Math.imul(h ^ b0, 0xc2b2ae35);
    h = Math.imul(h ^ ((ap << 16) | bp), 0x27d4eb2f);
    if (this.fam === 6) {
      h = Math.imul(h ^ a1 ^ (b1 << 1), 0x85ebca6b);
      h = Math.imul(h ^ a2 ^ (b2 << 1), 0xc2b2ae35);
      h = Math.imul(h ^ a3 ^ (b3 << 1), 0x27d4eb2f);
    }
    h ^= h >>> 15;
    const slots = this.slots;
    const mask = this.mask;
    const addr = this.addr;
    let i = h & mask;
    for (;;) {
      const f = slots[i]! - 1;
      if (f < 0) break;
      if (this.hashOf[f] === h) {
        const k = f * 8;
        if (
          addr[k] === a0 && addr[k + 4] === b0 && this.ports[f * 2] === ap && this.ports[f * 2 + 1] === bp &&
          this.protoOf[f] === this.proto && this.famOf[f] === this.fam &&
          addr[k + 1] === a1 && addr[k + 2] === a2 && addr[k + 3] === a3 &&
          addr[k + 5] === b1 && addr[k + 6] === b2 && addr[k + 7] === b3
        ) {
          this.created = false;
          return f;
        }
      }
      i = (i + 1) & mask;
    }
    // New flow.
    if (this.size >= this.famOf.length) this.grow();
    const f = this.size++;
    this.famOf[f] = this.fam;
    this.protoOf[f] = this.proto;
    const k = f * 8;
    const a = this.addr;
    a[k] = a0; a[k + 1] = a1; a[k + 2] = a2; a[k + 3] = a3;
    a[k + 4] = b0; a[k + 5] = b1; a[k + 6] = b2; a[k + 7] = b3;
    this.ports[f * 2] = ap;
    this.ports[f * 2 + 1] = bp;
    this.hashOf[f] = h;
    if (this.size * 2 > this.slots.length) this.rehash();
    else slots[i] = f + 1;
    this.created = true;
    return f;
  }

  private grow(): void {
    const cap = this.famOf.length * 2;
    this.famOf = growU8(this.famOf, cap);
    this.protoOf = growU8(this.protoOf, cap);
    const addr = new Uint32Array(cap * 8);
    addr.set(this.addr);
    this.addr = addr;
    const ports = new Uint16Array(cap * 2);
    ports.set(this.ports);
    this.ports = ports;
    const hashOf = new Int32Array(cap);
    hashOf.set(this.hashOf);
    this.hashOf = hashOf;
    this.onGrow(cap);
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let f = 0; f < this.size; f++) {
      let i = this.hashOf[f]! & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = f + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

export function growU8(a: Uint8Array, cap: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(cap);
  b.set(a);
  return b;
}
export function growU32(a: Uint32Array, cap: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(cap);
  b.set(a);
  return b;
}
export function growI32(a: Int32Array, cap: number, fill = 0): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap);
  if (fill !== 0) b.fill(fill);
  b.set(a);
  return b;
}
export function growF64(a: Float64Array, cap: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}
