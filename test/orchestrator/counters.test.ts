/**
 * The live counters (src/orchestrator/counters.ts) from a rig session's parts: records, rates
 * between two samples, current, radio bands (named by SDR when there are several), the first
 * link's MAVLink state, canaries; a part that knows nothing leaves its field out.
 */
import { describe, expect, it } from 'vitest';
import { CounterSampler } from '../../src/orchestrator/counters.js';
import type { RigSession } from '../../src/rig/session.js';

function capture(name: string, kind: string, records: () => number, extra: object = {}) {
  return { name, kind, start: async () => {}, stop: async () => ({ files: [], stats: { records: 0, dropped: 0 }, lossy: false }), live: () => ({ records: records(), dropped: 0 }), ...extra };
}

describe('CounterSampler', () => {
  it('gives records, rates, amps, radio, MAVLink and canaries from the session', () => {
    let n = 100;
    let rx = 10;
    const session = {
      captures: [
        capture('drone', 'network', () => n),
        capture('power', 'power', () => 5, { currentDraw: () => ({ drone: 0.42, phone: null }) }),
        capture('air', 'radio', () => 7, { bandPowerDbm: () => ({ '2.4GHz': -61.5, '5.8GHz': null }) }),
      ],
      links: new Map([['drone', { name: 'drone', stats: () => ({ rx: { HEARTBEAT: rx } }), telemetry: () => ({ mode: 'GUIDED', armed: true, altitudeM: 4.2 }) }]]),
      canaries: { counts: () => ({ sent: 12, failed: 1 }) },
    } as unknown as RigSession;
    const s = new CounterSampler(session, 1_000);
    const first = s.sample(2_000);
    expect(first).toEqual({
      type: 'counters',
      elapsedMs: 1_000,
      captures: { drone: 100, power: 5, air: 7, 'mavlink:drone': 10 },
      amps: { drone: 0.42, phone: null },
      radio: { '2.4GHz': -61.5, '5.8GHz': null },
      mavlink: { mode: 'GUIDED', armed: true, altitudeM: 4.2 },
      canaries: { sent: 12, failed: 1 },
    });
    n = 130;
    rx = 14;
    const second = s.sample(4_000);
    expect(second.rates).toEqual({ drone: 15, power: 0, air: 0, 'mavlink:drone': 2 });
  });

  it('adds the live analysis\'s canary health (seen, missing, per capture) to the canaries sent', () => {
    const session = { captures: [], links: new Map(), canaries: { counts: () => ({ sent: 48, failed: 0 }) } } as unknown as RigSession;
    let health: { seen: number; missing: number; byCapture: Record<string, { seen: number; missing: number }> } | undefined;
    const s = new CounterSampler(session, 0, () => health);
    // The live analysis not running (or not yet): seen and missing are not known, so left out.
    expect(s.sample(1_000).canaries).toEqual({ sent: 48, failed: 0 });
    health = { seen: 30, missing: 2, byCapture: { drone: { seen: 32, missing: 0 }, uplink: { seen: 30, missing: 2 } } };
    expect(s.sample(2_000).canaries).toEqual({ sent: 48, failed: 0, seen: 30, missing: 2, byCapture: { drone: { seen: 32, missing: 0 }, uplink: { seen: 30, missing: 2 } } });
  });

  it('leaves out what the rig cannot know, and names bands by SDR when there are two', () => {
    const session = {
      captures: [
        capture('sdr1', 'radio', () => 1, { bandPowerDbm: () => ({ wifi: -70 }) }),
        capture('sdr2', 'radio', () => 1, { bandPowerDbm: () => ({ wifi: -80 }) }),
      ],
      links: new Map(),
    } as unknown as RigSession;
    const e = new CounterSampler(session, 0).sample(500);
    expect(e.radio).toEqual({ 'sdr1:wifi': -70, 'sdr2:wifi': -80 });
    expect(e).not.toHaveProperty('mavlink');
    expect(e).not.toHaveProperty('canaries');
    expect(e).not.toHaveProperty('rates');
    expect(e.amps).toEqual({});
  });
});
