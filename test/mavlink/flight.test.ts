/**
 * The virtual vehicle flown through the real MAVLink link over a socat PTY pair: heartbeat,
 * arm refused until pre-arm passes, takeoff only in GUIDED, hover, land, disarm. The tlog the
 * link wrote is then decoded by the independent decoder in test/utils, packet for packet.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlightLink, readTlog } from '../../src/devices/flight/index.js';
import type { FlightLink } from '../../src/devices/flight/index.js';
import { startVehicle } from '../../src/sim/vehicle/vehicle.js';
import type { VehicleSim } from '../../src/sim/vehicle/vehicle.js';
import { decodeTlog } from '../utils/mavlink-decoder.js';
import { openPtyPair } from '../utils/pty.js';
import type { PtyPair } from '../utils/pty.js';
import { linkConfig, silentLog, tempDir } from './helpers.js';

const opts = { timeoutMs: 3000, retries: 2 };

describe('flying the virtual vehicle over a serial PTY', () => {
  let pty: PtyPair;
  let vehicle: VehicleSim;
  let link: FlightLink;
  const vehicleLog: string[] = [];
  const dir = tempDir();
  const tlogPath = path.join(dir, 'mavlink-drone.tlog');
  const startedAt = Date.now();

  beforeAll(async () => {
    pty = await openPtyPair();
    vehicle = await startVehicle({
      path: pty.b, baudRate: 57600, systemId: 1, prearmDelayMs: 2500, log: (l) => vehicleLog.push(l),
    });
    link = createFlightLink(linkConfig(`serial:sim:drone:57600`), {
      log: silentLog,
      resolvePort: (p) => (p === 'sim:drone' ? pty.a : p),
      tlogPath,
    });
    await link.open();
  });

  afterAll(async () => {
    await link?.close();
    await vehicle?.stop();
    await pty?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sees the heartbeat and reports the link up', async () => {
    await link.waitFor('heartbeat', 3000);
    await link.waitFor('disarmed', 1000);
    await link.waitFor('landed', 1000);
    const ev = link.stats().events;
    expect(ev[0]?.type).toBe('up');
    expect(ev[0]!.time).toBeGreaterThanOrEqual(startedAt);
  });

  it('refuses takeoff outside GUIDED, like ArduPilot', async () => {
    // Disarmed and in STABILIZE: do_user_takeoff fails.
    const r = await link.command('takeoff', { altitude: 3 }, opts);
    expect(r.result).toBe('FAILED');
  });

  it('arms only once pre-arm checks pass, retrying refusals and keeping the autopilot reason', async () => {
    expect((await link.command('set_mode', { mode: 'GUIDED' }, opts)).result).toBe('ACCEPTED');
    const short = await link.command('arm', {}, { timeoutMs: 600, retries: 1 });
    expect(short.result).toBe('FAILED');
    expect(short.statustext).toMatch(/^PreArm: /);
    const armed = await link.command('arm', {}, { timeoutMs: 8000, retries: 2 });
    expect(armed.result).toBe('ACCEPTED');
    expect(armed.attempts).toBeGreaterThan(1);
    await link.waitFor('armed', 2000);
  });

  it('takes off in GUIDED, hovers at altitude, lands and disarms', async () => {
    expect((await link.command('takeoff', { altitude: 3 }, opts)).result).toBe('ACCEPTED');
    await link.waitFor({ altitudeAbove: 2.8 }, 5000);
    // Hover: still up a second later.
    await new Promise((r) => setTimeout(r, 1000));
    await link.waitFor({ altitudeAbove: 2.8 }, 100);
    // Disarm in flight is refused by ArduPilot unless forced.
    expect((await link.command('disarm', {}, opts)).result).toBe('FAILED');
    expect((await link.command('land', {}, opts)).result).toBe('ACCEPTED');
    await link.waitFor('landed', 12_000);
    expect((await link.command('disarm', {}, opts)).result).toBe('ACCEPTED');
    await link.waitFor('disarmed', 3000);
  }, 30_000);

  it('reports a politely refused calibration and unknown commands as results, not crashes', async () => {
    const cal = await link.command('preflight_calibration', { gyro: 1 }, opts);
    expect(cal.result).toBe('DENIED');
    expect(cal.statustext).toMatch(/Calibration/);
    const servo = await link.command('MAV_CMD_DO_SET_SERVO', { param1: 9, param2: 1500 }, opts);
    expect(servo.result).toBe('UNSUPPORTED');
    expect(servo.statustext).toBeUndefined();
  });

  it('writes a tlog the independent decoder reads packet for packet, CRCs checked', async () => {
    const stats = link.stats();
    await link.close();
    const raw = fs.readFileSync(tlogPath);
    const indep = decodeTlog(raw);
    expect(indep.badCrc).toBe(0);
    expect(indep.skippedBytes).toBe(0);
    expect(indep.packets.every((p) => p.crcOk)).toBe(true);

    const ours: { index: number; timeUs: number; msgid: number; sysid: number; seq: number; bytes: string }[] = [];
    const rs = await readTlog(tlogPath, (r) =>
      ours.push({ index: r.index, timeUs: r.timeUs, msgid: r.msgid, sysid: r.sysid, seq: r.seq,
        bytes: r.buf.subarray(r.start, r.start + r.length).toString('hex') }),
    );
    expect(rs.crcErrors).toBe(0);
    expect(ours.length).toBe(indep.packets.length);
    ours.forEach((o, i) => {
      const p = indep.packets[i]!;
      expect(o.index).toBe(p.index);
      expect(o.msgid).toBe(p.msgid);
      expect(o.sysid).toBe(p.sysid);
      expect(o.seq).toBe(p.seq);
      expect(o.bytes).toBe(p.raw.toString('hex'));
      expect(BigInt(o.timeUs)).toBe(p.timeUs);
    });

    // Both directions are in the record, and the counts match the link's statistics.
    const count = (sysid: number, name: string) => indep.packets.filter((p) => p.sysid === sysid && p.name === name).length;
    expect(count(255, 'COMMAND_LONG')).toBe(stats.tx.COMMAND_LONG);
    expect(count(255, 'HEARTBEAT')).toBe(stats.tx.HEARTBEAT);
    expect(count(1, 'COMMAND_ACK')).toBe(stats.rx.COMMAND_ACK);
    expect(count(1, 'GLOBAL_POSITION_INT')).toBe(stats.rx.GLOBAL_POSITION_INT);
    expect(count(1, 'ATTITUDE')).toBe(0); // ArduPilot streams nothing unasked, and nobody asked for it

    // Timestamps: UNIX µs within the test's run, never going back.
    const times = indep.packets.map((p) => Number(p.timeUs! / 1000n));
    expect(times[0]).toBeGreaterThanOrEqual(startedAt);
    expect(times.at(-1)).toBeLessThanOrEqual(Date.now());
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]!);

    // The flight as the independent decoder sees it.
    const texts = indep.packets.filter((p) => p.name === 'STATUSTEXT').map((p) => p.fields!.text);
    expect(texts.some((t) => String(t).startsWith('PreArm: '))).toBe(true);
    const acks = indep.packets.filter((p) => p.name === 'COMMAND_ACK' && p.fields!.command === 400).map((p) => p.fields!.result);
    expect(acks.slice(0, 1)).toEqual([4]); // FAILED first (pre-arm)
    expect(acks).toContain(0);
    const alts = indep.packets.filter((p) => p.name === 'GLOBAL_POSITION_INT').map((p) => Number(p.fields!.relative_alt));
    expect(Math.max(...alts)).toBeGreaterThanOrEqual(2900);
    expect(alts.at(-1)).toBe(0);
    const landed = indep.packets.filter((p) => p.name === 'EXTENDED_SYS_STATE').map((p) => p.fields!.landed_state);
    const transitions = landed.filter((s, i) => i === 0 || s !== landed[i - 1]);
    expect(transitions[0]).toBe(1);
    expect(transitions).toContain(2);
    expect(transitions).toContain(4);
    expect(transitions.at(-1)).toBe(1);
    const armedFlags = indep.packets
      .filter((p) => p.sysid === 1 && p.name === 'HEARTBEAT')
      .map((p) => (Number(p.fields!.base_mode) & 128) !== 0);
    expect(armedFlags[0]).toBe(false);
    expect(armedFlags).toContain(true);
    expect(armedFlags.at(-1)).toBe(false);
    const modes = indep.packets.filter((p) => p.sysid === 1 && p.name === 'HEARTBEAT').map((p) => p.fields!.custom_mode);
    expect(modes).toContain(4); // GUIDED
    expect(modes.at(-1)).toBe(9); // LAND
  });
});
