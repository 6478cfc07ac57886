/**
 * The canaries a run sent, held compactly for the analysis after the run: one typed array per
 * field and one table of the strings (injection point names, addresses), which repeat. An
 * eight-hour run at 24 canaries a second sends about 700,000; as one object each (parsed from
 * canaries.jsonl) they took about 180 bytes apiece, 119 MB, and the checks' copies of them
 * (a window's canaries, an injection point's, the missing ones) took as much again each time
 * (docs/performance.md, "The canary ledger after eight hours"). Here a canary is 38 bytes, and
 * the checks (src/verdict/network-blindness.ts, src/verdict/sinkhole-witness.ts) pass indexes
 * around, making an object only for the canary a message names.
 *
 * The list keeps the order it was given (readCanaryLedger gives send order), so every check sees
 * the canaries in the same order as the plain list it replaces and says the same.
 */
import { CANARY_PROTOCOLS, type CanaryProtocol, type SentCanary } from '../analysis/canary.js';

/** A field the record does not carry (an older record without addresses, ports or protocol). */
const NONE = 0xffffffff;
const NO_PORT = -1;
const NO_PROTOCOL = 255;

export class CanaryListBuilder {
  private n = 0;
  private cap: number;
  private times: Float64Array;
  private seqs: Float64Array;
  private hosts: Uint32Array;
  private srcs: Uint32Array;
  private dsts: Uint32Array;
  private srcPorts: Int32Array;
  private dstPorts: Int32Array;
  private targets: Uint8Array;
  private protocols: Uint8Array;
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();

  /** `expected`: how many will come (only a first capacity: the arrays grow as needed). */
  constructor(expected = 0) {
    // A count from a hostile result.json must not allocate by itself: the first capacity is bounded.
    this.cap = Math.max(16, Math.min(expected, 1 << 20));
    this.times = new Float64Array(this.cap);
    this.seqs = new Float64Array(this.cap);
    this.hosts = new Uint32Array(this.cap);
    this.srcs = new Uint32Array(this.cap);
    this.dsts = new Uint32Array(this.cap);
    this.srcPorts = new Int32Array(this.cap);
    this.dstPorts = new Int32Array(this.cap);
    this.targets = new Uint8Array(this.cap);
    this.protocols = new Uint8Array(this.cap);
  }

  get length(): number {
    return this.n;
  }

  private id(s: string | undefined): number {
    if (s === undefined) return NONE;
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const more = <T extends Float64Array | Uint32Array | Int32Array | Uint8Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(cap);
      b.set(a);
      return b;
    };
    this.times = more(this.times, Float64Array);
    this.seqs = more(this.seqs, Float64Array);
    this.hosts = more(this.hosts, Uint32Array);
    this.srcs = more(this.srcs, Uint32Array);
    this.dsts = more(this.dsts, Uint32Array);
    this.srcPorts = more(this.srcPorts, Int32Array);
    this.dstPorts = more(this.dstPorts, Int32Array);
    this.targets = more(this.targets, Uint8Array);
    this.protocols = more(this.protocols, Uint8Array);
    this.cap = cap;
  }

  add(c: SentCanary): void {
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.times[i] = c.sentAtMs;
    this.seqs[i] = c.seq;
    this.hosts[i] = this.id(c.host);
    this.srcs[i] = this.id(c.src);
    this.dsts[i] = this.id(c.dst);
    this.srcPorts[i] = c.srcPort ?? NO_PORT;
    this.dstPorts[i] = c.dstPort ?? NO_PORT;
    this.targets[i] = c.target === 'outside' ? 1 : 0;
    this.protocols[i] = c.protocol === undefined ? NO_PROTOCOL : CANARY_PROTOCOLS.indexOf(c.protocol);
  }

  /**
   * The list, in the order added or, with `sorted`, by send time and then sequence number (ties
   * kept in the order added, as a stable sort of the records would).
   */
  build(sorted = false): CanaryList {
    const n = this.n;
    let order: Uint32Array | undefined;
    if (sorted) {
      const t = this.times;
      const s = this.seqs;
      let inOrder = true;
      for (let i = 1; i < n && inOrder; i++) inOrder = t[i - 1]! < t[i]! || (t[i - 1] === t[i] && s[i - 1]! <= s[i]!);
      if (!inOrder) {
        // A plain array: its sort is adaptive, and a ledger is nearly in order (each injection
        // point's canaries are; their reports interleave).
        const idx: number[] = [];
        for (let i = 0; i < n; i++) idx.push(i);
        idx.sort((a, b) => t[a]! - t[b]! || s[a]! - s[b]! || a - b);
        order = Uint32Array.from(idx);
      }
    }
    // The builder's arrays are handed over when full and in order (the usual case: the count is
    // known), else copied one at a time; the builder is not used after build().
    const take = <T extends Float64Array | Uint32Array | Int32Array | Uint8Array>(a: T): T => {
      if (!order) return n === a.length ? a : (a.slice(0, n) as T);
      const b = a.slice(0, n) as T;
      for (let i = 0; i < n; i++) b[i] = a[order[i]!]!;
      return b;
    };
    return new CanaryList(
      n,
      take(this.times),
      take(this.seqs),
      take(this.hosts),
      take(this.srcs),
      take(this.dsts),
      take(this.srcPorts),
      take(this.dstPorts),
      take(this.targets),
      take(this.protocols),
      this.strings.slice(),
    );
  }
}

export class CanaryList {
  /** @internal Made by CanaryListBuilder.build() or CanaryList.of(). */
  constructor(
    readonly length: number,
    private readonly times: Float64Array,
    private readonly seqs: Float64Array,
    private readonly hosts: Uint32Array,
    private readonly srcs: Uint32Array,
    private readonly dsts: Uint32Array,
    private readonly srcPorts: Int32Array,
    private readonly dstPorts: Int32Array,
    private readonly targets: Uint8Array,
    private readonly protocols: Uint8Array,
    private readonly strings: string[],
  ) {}

  /** A list of these records, in this order. */
  static of(sent: readonly SentCanary[]): CanaryList {
    const b = new CanaryListBuilder(sent.length);
    for (const c of sent) b.add(c);
    return b.build();
  }

  sentAtMs(i: number): number {
    return this.times[i]!;
  }

  seq(i: number): number {
    return this.seqs[i]!;
  }

  host(i: number): string {
    return this.strings[this.hosts[i]!]!;
  }

  target(i: number): 'lab' | 'outside' {
    return this.targets[i] === 1 ? 'outside' : 'lab';
  }

  protocol(i: number): CanaryProtocol | undefined {
    const p = this.protocols[i]!;
    return p === NO_PROTOCOL ? undefined : CANARY_PROTOCOLS[p];
  }

  src(i: number): string | undefined {
    const s = this.srcs[i]!;
    return s === NONE ? undefined : this.strings[s];
  }

  dst(i: number): string | undefined {
    const s = this.dsts[i]!;
    return s === NONE ? undefined : this.strings[s];
  }

  srcPort(i: number): number | undefined {
    const p = this.srcPorts[i]!;
    return p === NO_PORT ? undefined : p;
  }

  dstPort(i: number): number | undefined {
    const p = this.dstPorts[i]!;
    return p === NO_PORT ? undefined : p;
  }

  /** The record of canary `i`, as canaries.jsonl holds it (fields it does not carry left out). */
  get(i: number): SentCanary {
    const c: SentCanary = { host: this.host(i), seq: this.seq(i), target: this.target(i), sentAtMs: this.sentAtMs(i) };
    const protocol = this.protocol(i);
    if (protocol !== undefined) c.protocol = protocol;
    const src = this.src(i);
    if (src !== undefined) c.src = src;
    const dst = this.dst(i);
    if (dst !== undefined) c.dst = dst;
    const srcPort = this.srcPort(i);
    if (srcPort !== undefined) c.srcPort = srcPort;
    const dstPort = this.dstPort(i);
    if (dstPort !== undefined) c.dstPort = dstPort;
    return c;
  }

  /** Every record (tests and small lists; the analysis works on indexes). */
  toArray(): SentCanary[] {
    const out: SentCanary[] = [];
    for (let i = 0; i < this.length; i++) out.push(this.get(i));
    return out;
  }

  /** The indexes, in list order, of the canaries sent in [fromMs, toMs) that `keep` (if given) keeps. */
  sentIn(fromMs: number, toMs: number, keep?: (i: number) => boolean): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.length; i++) {
      const t = this.times[i]!;
      if (t >= fromMs && t < toMs && (!keep || keep(i))) out.push(i);
    }
    return out;
  }

  /** Bytes held by the list's arrays (not counting the string table). */
  get bytes(): number {
    return [this.times, this.seqs, this.hosts, this.srcs, this.dsts, this.srcPorts, this.dstPorts, this.targets, this.protocols].reduce((a, x) => a + x.byteLength, 0);
  }
}

/**
 * The list as a CanaryList. A plain list of records (tests; canariesForAnalysis converts an older
 * result.json's inline `sent`) is converted at each call, so a list that changes is read as it is now.
 */
export function canaryList(sent: CanaryList | readonly SentCanary[]): CanaryList {
  return sent instanceof CanaryList ? sent : CanaryList.of(sent);
}
