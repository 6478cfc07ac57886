/**
 * Flying ArduPilot and PX4 as a ground station does, against the vehicle simulator's two
 * flavours over a socat PTY pair: what each streams unasked, the link's requests (checked byte
 * for byte against packets built here from the published packet format), what arrived, the
 * autopilot's identity, arming through pre-arm checks, disarming by itself, PX4's modes, and
 * a condition on a message that never comes failing with the message and the request named.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { FlightError, PacketEncoder, createFlightLink, message } from '../../src/devices/flight/index.js';
import { startVehicle } from '../../src/sim/vehicle/vehicle.js';
import type { VehicleOptions } from '../../src/sim/vehicle/vehicle.js';
import type { DecodedPacket } from '../utils/mavlink-decoder.js';
import { crcX25, decodeStream, decodeTlog } from '../utils/mavlink-decoder.js';
import { openPtyPair } from '../utils/pty.js';
import { linkConfig, silentLog, tempDir } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function fly(flavour: 'ardupilot' | 'px4', vehicle: Partial<VehicleOptions> = {}) {
  const pty = await openPtyPair();
  cleanups.push(() => pty.close());
  const log: string[] = [];
  const sim = await startVehicle({ path: pty.b, baudRate: 57600, systemId: 1, flavour, prearmDelayMs: 0, log: (l) => log.push(l), ...vehicle });
  cleanups.push(() => sim.stop());
  const dir = tempDir();
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tlogPath = path.join(dir, 'mavlink-drone.tlog');
  const link = createFlightLink(linkConfig(`serial:${pty.a}:57600`, { autopilot: flavour }), { log: silentLog, resolvePort: (p) => p, tlogPath });
  cleanups.push(() => link.close());
  const notes: { event: string; fields: Record<string, unknown> }[] = [];
  link.onNote((event, fields) => notes.push({ event, fields }));
  await link.open();
  const packets = () => decodeTlog(fs.readFileSync(tlogPath)).packets;
  /** Until the link has checked what arrived (its mavlink_streams note). */
  const settled = async (ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!notes.some((n) => n.event === 'mavlink_streams') && Date.now() < deadline) await sleep(100);
  };
  return { pty, sim, link, log, notes, tlogPath, packets, settled };
}

/**
 * COMMAND_LONG as the published format says, from Airlock (255/190) to 1/1: payload fields in
 * wire order (seven float params, command u16, target system, target component, confirmation),
 * trailing zero bytes trimmed (MAVLink 2), CRC-16/MCRF4XX over header and payload then CRC_EXTRA 152.
 */
function expectedCommandLong(seq: number, command: number, params: number[], confirmation = 0): Buffer {
  const payload = Buffer.alloc(33);
  params.forEach((v, i) => payload.writeFloatLE(v, i * 4));
  payload.writeUInt16LE(command, 28);
  payload[30] = 1;
  payload[31] = 1;
  payload[32] = confirmation;
  let len = 33;
  while (len > 1 && payload[len - 1] === 0) len--;
  const head = Buffer.from([0xfd, len, 0, 0, seq, 255, 190, 76, 0, 0]);
  const body = Buffer.concat([head, payload.subarray(0, len)]);
  const crc = Buffer.alloc(2);
  crc.writeUInt16LE(crcX25(body.subarray(1), 152));
  return Buffer.concat([body, crc]);
}

const fromAirlock = (p: DecodedPacket) => p.sysid === 255;
/** The vehicle's custom_mode over time, repeats collapsed. */
const heartbeatsModes = (pk: DecodedPacket[]) =>
  pk.filter((p) => p.sysid === 1 && p.name === 'HEARTBEAT').map((p) => (p.fields!.custom_mode as number).toString(16)).filter((m, i, a) => i === 0 || a[i - 1] !== m);

describe('what each autopilot sends unasked', () => {
  for (const flavour of ['ardupilot', 'px4'] as const) {
    it(`${flavour}: before any request`, async () => {
      const pty = await openPtyPair();
      cleanups.push(() => pty.close());
      const sim = await startVehicle({ path: pty.b, baudRate: 57600, systemId: 1, flavour });
      cleanups.push(() => sim.stop());
      const port = new SerialPort({ path: pty.a, baudRate: 57600, autoOpen: false });
      await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
      cleanups.push(() => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())));
      const rx: Buffer[] = [];
      port.on('data', (d: Buffer) => rx.push(d));
      await sleep(2200);
      const names = new Set(decodeStream(Buffer.concat(rx)).packets.map((p) => p.name));
      if (flavour === 'ardupilot') {
        // Copter's SRn_* are 0: a ground station sees heartbeats and nothing to fly by.
        expect([...names]).toEqual(['HEARTBEAT']);
      } else {
        for (const n of ['HEARTBEAT', 'SYS_STATUS', 'EXTENDED_SYS_STATE', 'GLOBAL_POSITION_INT', 'ATTITUDE', 'VFR_HUD']) expect(names, n).toContain(n);
      }
    });
  }
});

describe('the link asks as a ground station does', () => {
  for (const flavour of ['ardupilot', 'px4'] as const) {
    it(`${flavour}: requests every stream it needs, they arrive, and the identity is read`, async () => {
      const f = await fly(flavour);
      await f.link.waitFor('heartbeat', 3000);
      await f.settled();
      const st = f.link.stats();
      expect(st.streams.map((s) => [s.message, s.hz, s.interval, s.state])).toEqual([
        ['GLOBAL_POSITION_INT', 4, 'ACCEPTED', 'arriving'],
        ['EXTENDED_SYS_STATE', 2, 'ACCEPTED', 'arriving'],
        ['SYS_STATUS', 1, 'ACCEPTED', 'arriving'],
      ]);
      expect(st.identity).toMatchObject(
        flavour === 'ardupilot'
          ? { autopilot: 'ARDUPILOTMEGA', vehicleType: 'QUADROTOR', flightSwVersion: '4.5.7', releaseType: 'official', gitHash: '2a3dc4b7', source: 'AUTOPILOT_VERSION' }
          : { autopilot: 'PX4', vehicleType: 'QUADROTOR', flightSwVersion: '1.15.2', releaseType: 'official', gitHash: '5f4e1a9c0b7d2e63', source: 'AUTOPILOT_VERSION' },
      );
      // The timeline notes say what was asked and what came.
      expect(f.notes.filter((n) => n.event === 'mavlink_stream_request').map((n) => n.fields.message)).toEqual(['GLOBAL_POSITION_INT', 'EXTENDED_SYS_STATE', 'SYS_STATUS']);
      const arrived = f.notes.find((n) => n.event === 'mavlink_streams')!.fields.streams as { message: string; state: string; measuredHz?: number }[];
      expect(arrived.every((s) => s.state === 'arriving')).toBe(true);
      const gpi = arrived.find((s) => s.message === 'GLOBAL_POSITION_INT')!;
      expect(gpi.measuredHz).toBeGreaterThan(2.5);
      await f.link.close();

      // On the wire, byte for byte: SET_MESSAGE_INTERVAL for each, then REQUEST_MESSAGE(AUTOPILOT_VERSION).
      const cmds = f.packets().filter((p) => fromAirlock(p) && p.name === 'COMMAND_LONG');
      const want: [number, number[]][] = [
        [511, [33, 250000, 0, 0, 0, 0, 0]],
        [511, [245, 500000, 0, 0, 0, 0, 0]],
        [511, [1, 1000000, 0, 0, 0, 0, 0]],
        [512, [148, 0, 0, 0, 0, 0, 0]],
      ];
      expect(cmds).toHaveLength(4);
      cmds.forEach((c, i) => expect(c.raw.toString('hex'), `request ${i}`).toBe(expectedCommandLong(c.seq, want[i]![0], want[i]![1]).toString('hex')));
      expect(f.packets().some((p) => p.name === 'REQUEST_DATA_STREAM')).toBe(false);
    });
  }

  it('ArduPilot 3.x (no SET_MESSAGE_INTERVAL): REQUEST_DATA_STREAM for the group, and landed from armed state without EXTENDED_SYS_STATE', async () => {
    const f = await fly('ardupilot', { messageInterval: false });
    await f.link.waitFor('heartbeat', 3000);
    const deadline = Date.now() + 10_000;
    while (f.link.stats().streams.some((s) => s.state === 'requested') && Date.now() < deadline) await sleep(100);
    const st = f.link.stats().streams;
    expect(st.map((s) => [s.message, s.interval, s.dataStream, s.state])).toEqual([
      ['GLOBAL_POSITION_INT', 'UNSUPPORTED', 'REQUEST_DATA_STREAM POSITION at 4 Hz sent', 'arriving'],
      ['EXTENDED_SYS_STATE', 'UNSUPPORTED', 'no REQUEST_DATA_STREAM group carries it', 'missing'],
      ['SYS_STATUS', 'UNSUPPORTED', 'REQUEST_DATA_STREAM EXTENDED_STATUS at 1 Hz sent', 'arriving'],
    ]);
    // The documented alternative: disarmed on the ground is landed.
    await f.link.waitFor('landed', 1000);
    // The identity came through the older MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES.
    expect(f.link.stats().identity?.flightSwVersion).toBe('4.5.7');
    await f.link.close();
    const rds = f.packets().filter((p) => fromAirlock(p) && p.name === 'REQUEST_DATA_STREAM').map((p) => p.fields);
    expect(rds).toEqual([
      { req_message_rate: 4, target_system: 1, target_component: 1, req_stream_id: 6, start_stop: 1 },
      { req_message_rate: 1, target_system: 1, target_component: 1, req_stream_id: 2, start_stop: 1 },
    ]);
    const caps = f.packets().filter((p) => fromAirlock(p) && p.name === 'COMMAND_LONG' && p.fields!.command === 520);
    expect(caps[0]!.raw.toString('hex')).toBe(expectedCommandLong(caps[0]!.seq, 520, [1, 0, 0, 0, 0, 0, 0]).toString('hex'));
  });

  it('a condition on a message the vehicle never sends fails naming the message and the request', async () => {
    const pty = await openPtyPair();
    cleanups.push(() => pty.close());
    const port = new SerialPort({ path: pty.b, baudRate: 57600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    cleanups.push(() => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())));
    // A vehicle that only beats its heart and refuses every command (DENIED).
    const enc = new PacketEncoder(1, 1);
    let rx = Buffer.alloc(0);
    let answered = 0;
    port.on('data', (d: Buffer) => {
      rx = Buffer.concat([rx, d]);
      const cmds = decodeStream(rx).packets.filter((p) => p.name === 'COMMAND_LONG');
      for (const c of cmds.slice(answered)) {
        port.write(enc.encode(message(77, { command: c.fields!.command, result: 2, progress: 0, resultParam2: 0, targetSystem: 255, targetComponent: 190 })));
      }
      answered = cmds.length;
    });
    const timer = setInterval(() => port.write(enc.encode(message(0, { type: 2, autopilot: 3, baseMode: 81, customMode: 4, systemStatus: 3, mavlinkVersion: 3 }))), 300);
    cleanups.push(() => clearInterval(timer));
    const dir = tempDir();
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const link = createFlightLink(linkConfig(`serial:${pty.a}:57600`), { log: silentLog, resolvePort: (p) => p, tlogPath: path.join(dir, 'mavlink-drone.tlog') });
    cleanups.push(() => link.close());
    await link.open();
    await link.waitFor('heartbeat', 3000);
    const err = (await link.waitFor({ altitudeAbove: 4 }, 3000).catch((e: unknown) => e)) as FlightError;
    expect(err).toBeInstanceOf(FlightError);
    expect(err.code).toBe('AIRLOCK_FLIGHT_NO_MESSAGE');
    expect(err.category).toBe('inconclusive');
    expect(err.message).toBe(
      'drone: waitFor altitude above 4 m: no GLOBAL_POSITION_INT in 3 s: requested at 4 Hz by SET_MESSAGE_INTERVAL, refused (DENIED); REQUEST_DATA_STREAM POSITION at 4 Hz sent',
    );
    expect(err.message).not.toMatch(/\?/);
  });
});

describe('arming, disarming and modes as each autopilot does them', () => {
  it('ArduPilot: arming is retried through the pre-arm checks; when they never pass the PreArm text is in the result', async () => {
    const f = await fly('ardupilot', { prearmDelayMs: 2500 });
    await f.link.waitFor('heartbeat', 3000);
    expect((await f.link.command('set_mode', { mode: 'GUIDED' }, { timeoutMs: 3000, retries: 2 })).result).toBe('ACCEPTED');
    const r = await f.link.command('arm', {}, { timeoutMs: 8000, retries: 2 });
    expect(r.result).toBe('ACCEPTED');
    expect(r.attempts).toBeGreaterThan(1);
    expect(r.statustext).toMatch(/PreArm: Need Position Estimate/);

    const g = await fly('ardupilot', { prearmDelayMs: 60_000 });
    await g.link.waitFor('heartbeat', 3000);
    const refused = await g.link.command('arm', {}, { timeoutMs: 2500, retries: 2 });
    expect(refused.result).toBe('FAILED');
    expect(refused.attempts).toBeGreaterThan(1);
    expect(refused.statustext).toBe('PreArm: Need Position Estimate');
  });

  it('ArduPilot: disarms by itself DISARM_DELAY after arming without a takeoff; the link sees it', async () => {
    // A 4 s delay against 1 Hz heartbeats: the link sees the armed state first even when a
    // loaded host delays a heartbeat by seconds (with 1.5 s a CI run under double load saw the
    // vehicle disarmed before any heartbeat said armed).
    const f = await fly('ardupilot', { disarmDelayMs: 4000 });
    await f.link.waitFor('heartbeat', 3000);
    await f.link.command('set_mode', { mode: 'GUIDED' }, { timeoutMs: 3000, retries: 2 });
    expect((await f.link.command('arm', {}, { timeoutMs: 3000, retries: 2 })).result).toBe('ACCEPTED');
    const armedAt = Date.now();
    await f.link.waitFor('armed', 3500);
    await f.link.waitFor('disarmed', 8000);
    // Not before the delay, counted from the arm's acknowledgement (the vehicle armed before it).
    expect(Date.now() - armedAt).toBeGreaterThan(3000);
    expect(f.log).toContain('disarmed (disarm delay)');
  });

  it('PX4: GUIDED is Hold, takeoff runs AUTO.TAKEOFF into Hold, reposition goes by COMMAND_INT, land is AUTO.LAND and it disarms itself', async () => {
    const f = await fly('px4', { prearmDelayMs: 1500 });
    await f.link.waitFor('heartbeat', 3000);
    await f.settled();
    const o = { timeoutMs: 5000, retries: 2 };
    expect((await f.link.command('set_mode', { mode: 'GUIDED' }, o)).result).toBe('ACCEPTED');
    await sleep(1100); // a heartbeat in Hold
    const arm = await f.link.command('arm', {}, o);
    expect(arm.result).toBe('ACCEPTED');
    expect((await f.link.command('takeoff', { altitude: 3 }, o)).result).toBe('ACCEPTED');
    await f.link.waitFor({ altitudeAbove: 2.8 }, 8000);
    await sleep(1200); // the takeoff ends in Hold
    expect((await f.link.command('reposition', { altitude: 5 }, o)).result).toBe('ACCEPTED');
    await f.link.waitFor({ altitudeAbove: 4.8 }, 8000);
    expect((await f.link.command('land', {}, o)).result).toBe('ACCEPTED');
    await f.link.waitFor('landed', 15_000);
    await f.link.waitFor('disarmed', 6000);
    await f.link.close();
    const pk = f.packets();
    // custom_mode: main mode in bits 16-23, sub mode in 24-31: POSCTL, AUTO.LOITER, AUTO.TAKEOFF, AUTO.LAND.
    const modes = heartbeatsModes(pk);
    expect(modes.slice(0, 5)).toEqual(['30000', '3040000', '2040000', '3040000', '6040000']);
    const setMode = pk.find((p) => fromAirlock(p) && p.name === 'COMMAND_LONG' && p.fields!.command === 176)!;
    expect(setMode.fields).toMatchObject({ param1: 1, param2: 4, param3: 3 });
    const reposition = pk.find((p) => fromAirlock(p) && p.name === 'COMMAND_INT')!;
    expect(reposition.fields).toMatchObject({ command: 192, frame: 6, x: 2147483647, y: 2147483647, z: 5, target_system: 1, target_component: 1 });
    const texts = pk.filter((p) => p.sysid === 1 && p.name === 'STATUSTEXT').map((p) => p.fields!.text);
    expect(texts).toContain('Disarmed by landing');
  });

  it('PX4: arming is refused in AUTO.LAND and while health checks fail, with PX4 results and texts', async () => {
    const f = await fly('px4', { prearmDelayMs: 60_000 });
    await f.link.waitFor('heartbeat', 3000);
    const r = await f.link.command('arm', {}, { timeoutMs: 2500, retries: 2 });
    expect(r.result).toBe('TEMPORARILY_REJECTED');
    expect(r.statustext).toBe('Preflight Fail: ekf2 missing data');
    const g = await fly('px4');
    await g.link.waitFor('heartbeat', 3000);
    expect((await g.link.command('set_mode', { mode: 'LAND' }, { timeoutMs: 3000, retries: 2 })).result).toBe('ACCEPTED');
    const r2 = await g.link.command('arm', {}, { timeoutMs: 2500, retries: 2 });
    expect(r2.result).toBe('TEMPORARILY_REJECTED');
    expect(r2.statustext).toBe('Arming denied: AUTO.LAND mode not armable');
  });
});
