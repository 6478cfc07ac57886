import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VirtualLab } from '../../src/sim/lab/index.js';
import { FirmwareHost, AMPS_ON, AMPS_STANDBY } from '../../src/sim/firmware/firmware-host.js';
import { labRig, testRunId } from '../lab/lab-rig.js';
import { alive, sh, waitFor } from '../lab/lab-helpers.js';
import { openPtyPair } from '../utils/pty.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-fwhost-'));
let lab: VirtualLab;
beforeAll(async () => {
  lab = await VirtualLab.up({ runId: testRunId(), rig: labRig(), runDir: tmp, sinkhole: false });
});
afterAll(async () => {
  await lab?.down();
  fs.rmSync(tmp, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function press(h: FirmwareHost, ms: number): Promise<void> {
  h.setClosed(true);
  await sleep(ms);
  h.setClosed(false);
}

describe('FirmwareHost', () => {
  it('runs any command as firmware in the device namespace, with its environment; button and power act on real processes', async () => {
    const cmd = 'env | grep ^AIRLOCK_ | sort > "$AIRLOCK_RUN_DIR/env-$AIRLOCK_DEVICE.txt"; readlink /proc/self/ns/net >> "$AIRLOCK_RUN_DIR/env-$AIRLOCK_DEVICE.txt"; exec sleep 60';
    const spec = lab.firmwareSpec('drone', { firmware: cmd, params: { delay: '5s' } });
    const host = new FirmwareHost(spec);
    expect(host.amps(12)).toBe(0);
    host.setPowered(true);
    const envFile = path.join(tmp, 'env-drone.txt');
    const text = await waitFor(() => fs.existsSync(envFile) && fs.readFileSync(envFile, 'utf8').includes('net:') && fs.readFileSync(envFile, 'utf8'), 5000, 'firmware env');
    expect(text).toContain('AIRLOCK_DEVICE=drone\n');
    expect(text).toContain(`AIRLOCK_NETNS=${lab.netns('drone')}\n`);
    expect(text).toContain('AIRLOCK_AIR_PEER=10.231.0.254\n');
    expect(text).toContain('AIRLOCK_SINKHOLE=10.231.0.1\n');
    expect(text).toContain('AIRLOCK_PARAM_DELAY=5s\n');
    expect(text.trim().split('\n').pop()).toBe(sh(`ip netns exec ${lab.netns('drone')} readlink /proc/self/ns/net`).trim());

    const pid = await waitFor(() => host.mainPid(), 2000, 'main pid');
    expect(host.amps(12)).toBeGreaterThan(AMPS_ON - 0.05);
    // Another process's view (state is shared through the run's state dir).
    expect(new FirmwareHost(spec).mainPid()).toBe(pid);
    // A short press does nothing.
    await press(host, 300);
    expect(host.mainPid()).toBe(pid);
    // A long press is a soft power-off: SIGTERM; sleep dies of it.
    await press(host, 1150);
    await waitFor(() => !alive(pid), 2000, 'soft power-off');
    expect(host.amps(12)).toBeLessThan(0.01);
    expect(host.amps(12)).toBeGreaterThan(0);
    // Off but powered: a long press boots it again.
    await press(host, 1150);
    const pid2 = await waitFor(() => host.mainPid(), 3000, 'reboot');
    expect(pid2).not.toBe(pid);
    host.setPowered(false);
    await waitFor(() => !alive(pid2), 2000, 'power cut');
    expect(host.amps(12)).toBe(0);
  });

  it('counts what a firmware leaves behind as standby, kills it on power cut, and down() kills everything', async () => {
    const host = new FirmwareHost(lab.firmwareSpec('controller', { firmware: 'trap "sleep 60 & exit 0" TERM; sleep 60 & wait' }));
    host.setPowered(true);
    const pid = await waitFor(() => host.mainPid(), 2000, 'main pid');
    await sleep(300);
    process.kill(pid, 'SIGTERM'); // what a long press sends
    await waitFor(() => !host.mainPid(), 2000, 'main exit');
    const left = host.groupPids();
    expect(left.length).toBeGreaterThan(0);
    const a = host.amps(12);
    expect(a).toBeGreaterThan(AMPS_STANDBY - 0.03);
    expect(a).toBeLessThan(AMPS_STANDBY + 0.03);
    host.setPowered(false);
    await waitFor(() => left.every((p) => !alive(p)), 2000, 'group killed');

    const phone = new FirmwareHost(lab.firmwareSpec('phone', { firmware: 'sleep 60 & sleep 60' }));
    phone.setPowered(true);
    await sleep(300);
    const pids = phone.groupPids();
    expect(pids.length).toBeGreaterThan(0);
    const other = await VirtualLab.up({ runId: testRunId(), rig: labRig(), runDir: tmp, sinkhole: false });
    const fw = new FirmwareHost(other.firmwareSpec('phone', { firmware: 'sleep 60' }));
    fw.setPowered(true);
    const otherPid = await waitFor(() => fw.mainPid(), 2000, 'other');
    await other.down();
    expect(alive(otherPid)).toBe(false);
    expect(pids.every((p) => alive(p))).toBe(true); // another run's down() leaves ours alone
    phone.setPowered(false);
  });

  it('clean drone firmware speaks MAVLink on its serial port through the vehicle simulator', async () => {
    const pty = await openPtyPair();
    try {
      const host = new FirmwareHost(lab.firmwareSpec('drone', { firmware: 'clean', serial: pty.a, serialBaud: 57600, systemId: 7 }));
      const fd = fs.openSync(pty.b, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      host.setPowered(true);
      let got = Buffer.alloc(0);
      const heartbeat = await waitFor(() => {
        const b = Buffer.alloc(4096);
        try {
          const n = fs.readSync(fd, b);
          got = Buffer.concat([got, b.subarray(0, n)]);
        } catch {
          /* EAGAIN: no byte on the non-blocking PTY yet; waitFor reads again, and any other error ends in its timeout */
        }
        // A MAVLink 2 frame: 0xFD, len, incompat, compat, seq, sysid, compid, msgid (3 bytes LE); HEARTBEAT is 0.
        for (let i = got.indexOf(0xfd); i >= 0 && i + 10 <= got.length; i = got.indexOf(0xfd, i + 1)) {
          if (got[i + 5] === 7 && got[i + 7] === 0 && got[i + 8] === 0 && got[i + 9] === 0) return got.subarray(i, i + 10);
        }
        return undefined;
      }, 15_000, 'a HEARTBEAT from system 7');
      expect(heartbeat[0]).toBe(0xfd);
      fs.closeSync(fd);
      host.setPowered(false);
    } finally {
      await pty.close();
    }
  }, 30_000);
});
