/**
 * The sinkhole witness leaves out Airlock's own canaries, and only them: a record to the canary
 * port (47474) is a canary when a canary was sent with its protocol, source address and port and
 * destination, near its time. A device's own datagram to that port (another source port, or the
 * canary's tuple long after its send) is witnessed like any other, so a capture that missed it
 * makes the window INCONCLUSIVE. Before, every record to port 47474 was left out.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanCaptures } from '../../src/analysis/index.js';
import type { SentCanary } from '../../src/analysis/canary.js';
import type { RigConfig } from '../../src/config/types.js';
import type { JudgeInput } from '../../src/verdict/input.js';
import { networkBlindness } from '../../src/verdict/network-blindness.js';
import { WindowData } from '../../src/verdict/window-data.js';

const dir = mkdtempSync(path.join(tmpdir(), 'airlock-canary-port-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T = Date.UTC(2026, 11, 3, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const record = (t: number, srcPort: number) =>
  JSON.stringify({ time: iso(t), t, proto: 'udp', src: '10.231.0.10', srcPort, dst: '203.0.113.99', dstPort: 47474, bytes: '41495244' });

describe('sinkhole records to the canary port', () => {
  it("a sent canary's record is left out; a device's datagram to the same port, or the canary's tuple 30 s later, is witnessed", async () => {
    writeFileSync(
      path.join(dir, 'sinkhole.jsonl'),
      [
        JSON.stringify({ time: iso(T - 1000), t: T - 1000, event: 'start', instance: 'a1b2c3d4e5f60708', heartbeatMs: 5000 }),
        record(T + 300, 40000), // the canary, logged 300 ms after its send
        record(T + 500, 40001), // the device, from another port
        record(T + 30_000, 40000), // the canary's tuple again, long after: not the canary
      ].join('\n') + '\n',
    );
    const sent: SentCanary[] = [{ host: 'drone', seq: 1, target: 'outside', protocol: 'udp', src: '10.231.0.10', srcPort: 40000, dst: '203.0.113.99', dstPort: 47474, sentAtMs: T }];
    const input = {
      runDir: dir,
      rig: { lab: { subnets: [] }, canaries: { intervalMs: 2000 } } as unknown as RigConfig,
      captures: [],
      canaries: { secret: 's', sent, capturesFor: {} },
    } as unknown as JudgeInput;
    const scan = await scanCaptures([], { lab: ['10.231.0.0/24'] });
    const data = new WindowData(input, { fromMs: T - 5000, toMs: T + 60_000, kind: 'phase' }, scan);
    expect(data.sinkholeRecords().map((r) => [r.timeMs - T, r.dst, r.dstPort])).toEqual([
      [500, '203.0.113.99', 47474],
      [30_000, '203.0.113.99', 47474],
    ]);
    expect(await networkBlindness(data)).toContain(`the sinkhole saw udp 10.231.0.10 -> 203.0.113.99:47474 at ${iso(T + 500)} but no capture holds it`);
    // Only the canary's record: nothing to witness.
    const alone = new WindowData(input, { fromMs: T - 5000, toMs: T + 400, kind: 'phase' }, scan);
    expect(alone.sinkholeRecords()).toEqual([]);
  });
});
