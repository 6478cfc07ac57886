import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SweepCapture } from '../../src/devices/radio/sweep.js';
import { bandPower, type SweepRow } from '../../src/analysis/radio/sweep-csv.js';
import { interfaceBytes, powerForBytes } from '../../src/sim/radio/virtual-sdr.js';
import { makeAirPair, sendUdp, type AirPair } from './air-pair.js';
import { execFileSync } from 'node:child_process';
import { nodeScript } from '../../src/child-script.js';

const band = { name: 'wifi24', lowHz: 2_400_000_000, highHz: 2_483_500_000 };
let air: AirPair;
let dir: string;
beforeAll(() => {
  air = makeAirPair();
  dir = mkdtempSync(path.join(tmpdir(), 'trd-vsdr-'));
});
afterAll(() => {
  air?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('virtual SDR', () => {
  it('reads rx+tx bytes of one interface from /proc/net/dev text', () => {
    const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  air0:    1234      10    0    0    0     0          0         0      766       7    0    0    0     0       0          0
`;
    expect(interfaceBytes(text, 'air0')).toBe(2000);
    expect(interfaceBytes(text, 'eth9')).toBeUndefined();
    expect(powerForBytes(0)).toBe(-95);
    expect(powerForBytes(1000)).toBeGreaterThan(powerForBytes(100));
  });

  it('shows the floor when the air is silent and power rising when bounded traffic crosses it', async () => {
    const rows: SweepRow[] = [];
    const cap = new SweepCapture({
      sdr: { name: 'vsdr', driver: 'virtual', bands: [band], binWidthHz: 1_000_000 },
      runDir: dir,
      netns: air.drone,
      onRow: (r) => rows.push({ ...r, db: [...r.db] }),
    });
    await cap.start();
    await new Promise((r) => setTimeout(r, 1000));
    const quietEnd = Date.now();
    // 30 datagrams of 1000 bytes, 40 ms apart, controller -> drone over the veth.
    await sendUdp(air.controller, air.droneIp, 5600, 30, 1000, 40);
    const busyEnd = Date.now();
    await new Promise((r) => setTimeout(r, 300));
    const res = await cap.stop();
    expect(res.lossy).toBe(false);
    const power = (from: number, to: number) => rows.filter((r) => r.timeMs >= from && r.timeMs <= to).map((r) => bandPower(r, band)!).filter((p) => p !== undefined);
    const quiet = power(0, quietEnd);
    const busy = power(quietEnd + 300, busyEnd);
    expect(quiet.length).toBeGreaterThan(3);
    expect(busy.length).toBeGreaterThan(3);
    // Floor: about -95 dBm with a little noise; traffic: well above it.
    expect(Math.max(...quiet)).toBeLessThan(-90);
    expect(Math.min(...quiet)).toBeGreaterThan(-100);
    expect(Math.max(...busy)).toBeGreaterThan(-60);
  });
});

describe('virtual SDR child', () => {
  it('exits when its parent dies without stopping it', async () => {
    const argv = nodeScript(new URL('../../src/sim/radio/virtual-sdr.ts', import.meta.url).href, './virtual-sdr-child');
    const cmd = [...argv, '--iface', 'lo', '--bands', '2400000000:2405000000', '--bin', '1000000'].map((a) => `'${a}'`).join(' ');
    // sh starts the child in the background, prints its pid, waits until the child has printed
    // a sweep (so it is up and has seen its parent), and exits without stopping it.
    const out = path.join(dir, 'orphan.csv');
    const pid = Number(
      execFileSync('sh', ['-c', `${cmd} >${out} 2>&1 & echo $!; i=0; while [ ! -s ${out} ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done`], { encoding: 'utf8' }).trim(),
    );
    expect(pid).toBeGreaterThan(0);
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 8000;
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const stillAlive = alive();
    if (stillAlive) process.kill(pid, 'SIGKILL');
    expect(stillAlive).toBe(false);
  });
});
