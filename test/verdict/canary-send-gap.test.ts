/**
 * A canary injection point that stalls across a phase boundary: 21.8 s without a send, 10 s
 * before the boundary and 11.8 s after it, each side under the tolerance (3 intervals + 5 s =
 * 11 s at 2 s) but the stall twice as long. The later phase must be INCONCLUSIVE naming the
 * stretch from the last send before it, and a sender that kept its interval must not be named.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanCaptures } from '../../src/analysis/index.js';
import type { SentCanary } from '../../src/analysis/canary.js';
import type { RigConfig } from '../../src/config/types.js';
import type { JudgeInput } from '../../src/verdict/input.js';
import { networkBlindness } from '../../src/verdict/network-blindness.js';
import { WindowData, type Window } from '../../src/verdict/window-data.js';

const dir = mkdtempSync(path.join(tmpdir(), 'airlock-send-gap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

/** Sends of `host` every 2 s in [from, to]. */
function sends(host: string, from: number, to: number): SentCanary[] {
  const out: SentCanary[] = [];
  for (let t = from; t <= to; t += 2000) out.push({ host, seq: out.length, target: 'lab', protocol: 'udp', sentAtMs: t } as SentCanary);
  return out;
}

/** The window's reasons about canary injection points (the rig has no capture, which is said too). */
async function reasons(sent: SentCanary[], window: Window): Promise<string[]> {
  const input = {
    runDir: dir,
    rig: { lab: { subnets: [] }, canaries: { intervalMs: 2000 } } as unknown as RigConfig,
    // The capture the point crosses is not among the run's captures: only the send check speaks.
    captures: [],
    canaries: { secret: 's', sent, capturesFor: { bench: ['uplink'] } },
  } as unknown as JudgeInput;
  const scan = await scanCaptures([], { lab: ['10.0.0.0/8'] });
  return (await networkBlindness(new WindowData(input, window, scan))).filter((r) => r.startsWith('canary injection point'));
}

describe('canary send gaps across a window boundary', () => {
  const first: Window = { fromMs: T0, toMs: T0 + 31_000, kind: 'phase' };
  const second: Window = { fromMs: T0 + 31_000, toMs: T0 + 80_000, kind: 'phase' };

  it('a stall from 10 s before a phase boundary to 11.8 s after it: the later phase is INCONCLUSIVE naming it', async () => {
    const stalled = [...sends('bench', T0, T0 + 20_000), ...sends('bench', T0 + 41_800, T0 + 80_000)];
    expect(await reasons(stalled, first)).toEqual([]);
    expect(await reasons(stalled, second)).toEqual([
      `canary injection point bench sent no canary between ${iso(T0 + 20_000)} and ${iso(T0 + 41_800)} (21.8 s; one every 2 s was promised), so nothing shows the captures uplink could see then`,
    ]);
  });

  it('a sender that kept its interval across the boundary: no reason in either phase', async () => {
    const steady = sends('bench', T0, T0 + 80_000);
    expect(await reasons(steady, first)).toEqual([]);
    expect(await reasons(steady, second)).toEqual([]);
  });

  it('a phase whose first send comes 12 s after its start, with none before: INCONCLUSIVE from the start', async () => {
    const late = sends('bench', T0 + 12_000, T0 + 30_000);
    expect(await reasons(late, first)).toEqual([
      `canary injection point bench sent no canary between ${iso(T0)} and ${iso(T0 + 12_000)} (12.0 s; one every 2 s was promised), so nothing shows the captures uplink could see then`,
    ]);
  });
});
