/**
 * The live counters of a run (the `counters` progress event, once a second): records per capture,
 * packet rates, current draw per channel, radio power per band, the vehicle's MAVLink state and
 * the canaries sent. Each comes from the part that already holds it; a field the rig cannot know
 * is left out ("not known"), never filled with a guess.
 */
import type { RigSession } from '../rig/session.js';
import type { CanaryHealth } from '../verdict/index.js';

export interface CountersEvent {
  type: 'counters';
  elapsedMs: number;
  /** Records written so far per capture (and `mavlink:<link>` for each MAVLink link). */
  captures: Record<string, number>;
  amps: Record<string, number | null>;
  /** Records per second per capture since the previous sample. */
  rates?: Record<string, number>;
  /** Power per band in the last sweep that covered it (dBm), `<sdr>:<band>` when the rig has several SDRs. */
  radio?: Record<string, number | null>;
  /** The first MAVLink link's vehicle as last heard. */
  mavlink?: { mode?: string; armed?: boolean; altitudeM?: number };
  /**
   * Canaries sent and not sent so far; where the live analysis runs, those found in every capture
   * they must cross (`seen`), those missing from at least one (`missing`), and both per capture
   * (src/verdict/canary-health.ts; canaries sent in the last 3 s, or before the live analysis
   * started, are in neither).
   */
  canaries?: { sent: number; failed?: number; seen?: number; missing?: number; byCapture?: Record<string, { seen: number; missing: number }>; silent?: string[]; unchecked?: number };
}

type WithCurrent = { currentDraw(): Record<string, number | null> };
type WithBands = { bandPowerDbm(): Record<string, number | null> };

export class CounterSampler {
  private last: { at: number; records: Record<string, number> } | undefined;

  constructor(
    private readonly session: RigSession,
    private readonly t0: number,
    /** The live analysis's canary health, when it runs. */
    private readonly canaryHealth: () => CanaryHealth | undefined = () => undefined,
  ) {}

  sample(now = Date.now()): CountersEvent {
    const s = this.session;
    const captures: Record<string, number> = {};
    for (const c of s.captures) captures[c.name] = c.live().records;
    for (const [name, link] of s.links) {
      const rx = (link.stats() as { rx?: Record<string, number> }).rx ?? {};
      captures[`mavlink:${name}`] = Object.values(rx).reduce((a, b) => a + b, 0);
    }
    let amps: Record<string, number | null> = {};
    for (const c of s.captures) if (hasMethod<WithCurrent>(c, 'currentDraw')) amps = c.currentDraw();
    const e: CountersEvent = { type: 'counters', elapsedMs: now - this.t0, captures, amps };

    if (this.last && now > this.last.at) {
      const rates: Record<string, number> = {};
      const dt = (now - this.last.at) / 1000;
      for (const [k, v] of Object.entries(captures)) {
        const before = this.last.records[k];
        if (before !== undefined) rates[k] = Math.round((Math.max(0, v - before) / dt) * 10) / 10;
      }
      e.rates = rates;
    }
    this.last = { at: now, records: captures };

    const sdrs = s.captures.filter((c): c is typeof c & WithBands => hasMethod<WithBands>(c, 'bandPowerDbm'));
    if (sdrs.length) {
      const radio: Record<string, number | null> = {};
      for (const c of sdrs) for (const [band, dbm] of Object.entries(c.bandPowerDbm())) radio[sdrs.length > 1 ? `${c.name}:${band}` : band] = dbm;
      e.radio = radio;
    }
    const first = [...s.links.values()][0];
    if (first?.telemetry) e.mavlink = first.telemetry();
    const counts = s.canaries?.counts?.();
    if (counts) {
      const h = this.canaryHealth();
      e.canaries = { sent: counts.sent, failed: counts.failed, ...(h ? { seen: h.seen, missing: h.missing, byCapture: h.byCapture, ...(h.silent ? { silent: h.silent } : {}), ...(h.unchecked ? { unchecked: h.unchecked } : {}) } : {}) };
    }
    return e;
  }
}

function hasMethod<T>(o: unknown, name: string): o is T {
  return typeof (o as Record<string, unknown>)[name] === 'function';
}
