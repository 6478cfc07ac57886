/**
 * The dashboard's history of numeric series (current draw, packet rates, radio power),
 * bounded however long the run lasts: samples fall into time buckets; each bucket keeps the
 * minimum, maximum and last value of each series; when there are more than `maxBuckets` buckets,
 * the bucket width doubles and neighbours merge. An eight-hour run therefore costs the same memory
 * and the same payload as a ten-minute one, and a spike survives downsampling as a bucket maximum.
 */

export interface HistoryPayload {
  /** Width of one bucket in ms (the first width until the history outgrows `maxBuckets`). */
  bucketMs: number;
  /** Start of each bucket, UNIX ms, ascending. */
  t: number[];
  /** Per series, aligned with `t`; null where the series had no sample in that bucket. */
  series: Record<string, { min: (number | null)[]; max: (number | null)[]; last: (number | null)[] }>;
}

interface Column {
  min: (number | null)[];
  max: (number | null)[];
  last: (number | null)[];
}

export class SeriesHistory {
  private bucketMs: number;
  private origin: number | undefined;
  /** Bucket index (from origin, in units of bucketMs) of each bucket, ascending. */
  private idx: number[] = [];
  private readonly columns = new Map<string, Column>();

  constructor(
    private readonly maxBuckets = 600,
    firstBucketMs = 1000,
    /** At most this many series are kept (a hostile stream could name millions). */
    private readonly maxSeries = 64,
  ) {
    if (maxBuckets < 2) throw new RangeError('maxBuckets must be at least 2');
    this.bucketMs = firstBucketMs;
  }

  /** Adds one sample of several series at time `t` (UNIX ms). Non-finite values are skipped. */
  add(t: number, values: Record<string, number | null | undefined>): void {
    if (!Number.isFinite(t)) return;
    this.origin ??= t;
    // A sample older than the origin (clock step) goes into the first bucket.
    const i = Math.max(0, Math.floor((t - this.origin) / this.bucketMs));
    let pos = this.idx.length - 1;
    if (pos < 0 || this.idx[pos]! < i) {
      // Samples arrive in time order; a new bucket at the end.
      this.idx.push(i);
      for (const c of this.columns.values()) {
        c.min.push(null);
        c.max.push(null);
        c.last.push(null);
      }
      pos = this.idx.length - 1;
    } else {
      // A late sample (out of order) joins the bucket it belongs to, or the last one before it.
      while (pos > 0 && this.idx[pos]! > i) pos--;
    }
    for (const [name, v] of Object.entries(values)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const c = this.column(name);
      if (!c) continue;
      const mn = c.min[pos]!;
      const mx = c.max[pos]!;
      c.min[pos] = mn === null ? v : Math.min(mn, v);
      c.max[pos] = mx === null ? v : Math.max(mx, v);
      c.last[pos] = v;
    }
    while (this.idx.length > this.maxBuckets) this.coarsen();
  }

  private column(name: string): Column | undefined {
    let c = this.columns.get(name);
    if (c) return c;
    if (this.columns.size >= this.maxSeries) return undefined;
    const n = this.idx.length;
    c = { min: new Array<number | null>(n).fill(null), max: new Array<number | null>(n).fill(null), last: new Array<number | null>(n).fill(null) };
    this.columns.set(name, c);
    return c;
  }

  /** Doubles the bucket width: buckets 2k and 2k+1 merge (min of mins, max of maxes, the later last). */
  private coarsen(): void {
    this.bucketMs *= 2;
    const idx: number[] = [];
    const from: number[][] = [];
    for (let k = 0; k < this.idx.length; k++) {
      const j = Math.floor(this.idx[k]! / 2);
      if (idx.length && idx[idx.length - 1] === j) from[from.length - 1]!.push(k);
      else {
        idx.push(j);
        from.push([k]);
      }
    }
    for (const c of this.columns.values()) {
      const min: (number | null)[] = [];
      const max: (number | null)[] = [];
      const last: (number | null)[] = [];
      for (const ks of from) {
        let mn: number | null = null;
        let mx: number | null = null;
        let ls: number | null = null;
        for (const k of ks) {
          const a = c.min[k]!;
          const b = c.max[k]!;
          const l = c.last[k]!;
          if (a !== null) mn = mn === null ? a : Math.min(mn, a);
          if (b !== null) mx = mx === null ? b : Math.max(mx, b);
          if (l !== null) ls = l;
        }
        min.push(mn);
        max.push(mx);
        last.push(ls);
      }
      c.min = min;
      c.max = max;
      c.last = last;
    }
    this.idx = idx;
  }

  /** Number of buckets held (at most maxBuckets). */
  get size(): number {
    return this.idx.length;
  }

  /** A copy for the page: bounded by maxBuckets x maxSeries whatever the run's length. */
  payload(): HistoryPayload {
    const origin = this.origin ?? 0;
    const series: HistoryPayload['series'] = {};
    for (const [name, c] of this.columns) series[name] = { min: c.min.slice(), max: c.max.slice(), last: c.last.slice() };
    return { bucketMs: this.bucketMs, t: this.idx.map((i) => origin + i * this.bucketMs), series };
  }
}
