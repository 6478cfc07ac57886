/**
 * Canary health during a run (the dashboard's and the progress line's `counters.canaries.seen` and
 * `.missing`): of the canaries sent so far, how many the live analysis (live.ts) found in every
 * network capture their injection point crosses, and how many are missing from at least one, with
 * the same count per capture. A technician sees a blind capture (a wrong interface, a mirror that
 * lost a VLAN) within seconds, not after an eight-hour run ends INCONCLUSIVE.
 *
 * A canary is decided for a capture only once the live analysis has read that capture past the
 * canary's send time plus SETTLE_MS (a capture child flushes every 500 ms; a loaded host delays
 * it), so canaries in flight are neither seen nor missing. The post-run analysis stays the
 * authority on proof of sight (network-blindness.ts); this count is for the screen.
 *
 * Memory stays flat over hours: a canary is held only until it is decided in each of its captures
 * (seconds), a canary found is held as a key until its own record is decided, and keys are dropped
 * once older than KEEP_SEEN_MS behind their capture's reading; sent records waiting for a capture
 * that is never read (its file not followed) are capped at MAX_PENDING.
 *
 * An injection point that stops sending (its sender crashed, its SSH link lost) leaves no canary
 * to count, so the counts alone would stay as they were, all seen. Given the send interval, an
 * injection point that went longer than the post-run check tolerates without a send
 * (sendGapToleranceMs in network-blindness.ts), up to the time its captures are read, is listed in
 * `silent` from then on: the post-run analysis calls that stretch INCONCLUSIVE.
 */
import { sendGapToleranceMs } from './network-blindness.js';

/** A canary is decided in a capture read this long past its send time. */
export const CANARY_SETTLE_MS = 3000;
/** A canary found in a capture whose send record did not come within this time is forgotten. */
const KEEP_SEEN_MS = 60_000;
/** Sent canaries waiting to be decided, at most (the oldest are dropped, counted as `unchecked`). */
export const MAX_PENDING = 20_000;

export interface CanaryHealth {
  /** Canaries found in every capture they must cross. */
  seen: number;
  /** Canaries missing from at least one capture they must cross. */
  missing: number;
  /** Per capture: canaries that must cross it, found and missing. */
  byCapture: Record<string, { seen: number; missing: number }>;
  /** Injection points that went longer than the tolerance without a send (absent: none). */
  silent?: string[];
  /** Canaries given up undecided (more than MAX_PENDING waiting: a capture not read for minutes; absent: none). */
  unchecked?: number;
}

interface Pending {
  key: string;
  sentAtMs: number;
  /** Captures still to decide. */
  open: string[];
  missed: boolean;
}

export class CanaryTally {
  private pending: Pending[] = [];
  /** Per capture: `host seq` of canaries found there, with their send time. */
  private readonly found = new Map<string, Map<string, number>>();
  private readonly counts: CanaryHealth = { seen: 0, missing: 0, byCapture: {} };
  dropped = 0;
  /** Per injection point crossing a capture: its last send (or when the count began). */
  private readonly lastSent = new Map<string, number>();
  private readonly silent = new Set<string>();
  private readonly gapMs: number | undefined;

  constructor(
    private readonly capturesFor: (host: string) => readonly string[],
    /** The send interval, the injection points and when the count begins: without them no silence is told. */
    sends?: { intervalMs: number; injectors: readonly string[]; fromMs: number },
  ) {
    if (sends && sends.intervalMs > 0) {
      this.gapMs = sendGapToleranceMs(sends.intervalMs);
      for (const host of sends.injectors) if (capturesFor(host).length > 0) this.lastSent.set(host, sends.fromMs);
    }
  }

  /** A canary was sent (the sender's ledger, CanarySender.onSent). */
  sent(c: { host: string; seq: number; sentAtMs: number }): void {
    const open = [...new Set(this.capturesFor(c.host))];
    if (open.length === 0) return;
    if (this.gapMs !== undefined) {
      const last = this.lastSent.get(c.host);
      if (last !== undefined && c.sentAtMs - last > this.gapMs) this.silent.add(c.host);
      if (last === undefined || c.sentAtMs > last) this.lastSent.set(c.host, c.sentAtMs);
    }
    for (const cap of open) this.counts.byCapture[cap] ??= { seen: 0, missing: 0 };
    this.pending.push({ key: `${c.host} ${c.seq}`, sentAtMs: c.sentAtMs, open, missed: false });
    if (this.pending.length > MAX_PENDING) {
      this.dropped += this.pending.length - MAX_PENDING;
      this.pending.splice(0, this.pending.length - MAX_PENDING);
    }
  }

  /** The live analysis accepted a canary in a capture. */
  seen(capture: string, host: string, seq: number, sentAtMs: number): void {
    let m = this.found.get(capture);
    if (!m) this.found.set(capture, (m = new Map()));
    m.set(`${host} ${seq}`, sentAtMs);
  }

  /**
   * Decides what can be decided: `readTo(capture)` is the time up to which everything the capture
   * wrote has been read (undefined: not known yet).
   */
  settle(readTo: (capture: string) => number | undefined): void {
    const upTo = new Map<string, number | undefined>();
    const limit = (cap: string) => {
      if (!upTo.has(cap)) upTo.set(cap, readTo(cap));
      return upTo.get(cap);
    };
    let kept = 0;
    for (const p of this.pending) {
      p.open = p.open.filter((cap) => {
        const to = limit(cap);
        if (to === undefined || p.sentAtMs + CANARY_SETTLE_MS > to) return true;
        const m = this.found.get(cap);
        const hit = m?.delete(p.key) ?? false;
        const c = this.counts.byCapture[cap]!;
        if (hit) c.seen++;
        else {
          c.missing++;
          p.missed = true;
        }
        return false;
      });
      if (p.open.length > 0) this.pending[kept++] = p;
      else if (p.missed) this.counts.missing++;
      else this.counts.seen++;
    }
    this.pending.length = kept;
    // An injection point with no send for longer than the tolerance, up to where every capture it crosses is read.
    if (this.gapMs !== undefined) {
      for (const [host, last] of this.lastSent) {
        if (this.silent.has(host)) continue;
        const to = Math.min(...this.capturesFor(host).map((cap) => limit(cap) ?? -Infinity));
        if (to - last > this.gapMs) this.silent.add(host);
      }
    }
    // Canaries found whose own record never came to be decided here (another capture's, or a
    // copy seen in a capture it does not have to cross): forgotten once well behind the reading.
    for (const [cap, m] of this.found) {
      const to = limit(cap);
      if (to === undefined) continue;
      for (const [key, at] of m) if (at < to - KEEP_SEEN_MS) m.delete(key);
    }
  }

  /** The counts so far (a copy). */
  health(): CanaryHealth {
    const byCapture: CanaryHealth['byCapture'] = {};
    for (const [k, v] of Object.entries(this.counts.byCapture)) byCapture[k] = { ...v };
    return { seen: this.counts.seen, missing: this.counts.missing, byCapture, ...(this.silent.size > 0 ? { silent: [...this.silent].sort() } : {}), ...(this.dropped > 0 ? { unchecked: this.dropped } : {}) };
  }

  /** What it holds (test/verdict/canary-health.test.ts): canaries waiting to be decided, keys of canaries found. */
  retained(): { pending: number; foundKeys: number } {
    let foundKeys = 0;
    for (const m of this.found.values()) foundKeys += m.size;
    return { pending: this.pending.length, foundKeys };
  }
}
