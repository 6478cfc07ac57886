/**
 * Commands as they go on the wire, against a scripted autopilot on the far end of a PTY:
 * ArduPilot and PX4 mode encodings, PX4's AMSL takeoff altitude, retransmission with the
 * confirmation counter, IN_PROGRESS and TEMPORARILY_REJECTED handling, bad names refused.
 * What the link sent is read by the independent decoder; expected values are written literally.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { PacketEncoder, createFlightLink, message, modeName, modeRequest } from '../../src/devices/flight/index.js';
import type { DecodedPacket } from '../utils/mavlink-decoder.js';
import { decodeStream } from '../utils/mavlink-decoder.js';
import { openPtyPair } from '../utils/pty.js';
import { linkConfig, silentLog, tempDir } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** The link's own requests at the first heartbeat: SET_MESSAGE_INTERVAL, REQUEST_MESSAGE, REQUEST_AUTOPILOT_CAPABILITIES. */
const STREAM_REQUESTS = new Set([511, 512, 520]);

/**
 * A scripted autopilot: sends a heartbeat and a GLOBAL_POSITION_INT (home 584 m AMSL,
 * 0 m relative) every 200 ms, and answers each COMMAND_LONG with what `reply` returns
 * (a MAV_RESULT, a list of them to send in order, or undefined for no answer). The link's
 * stream and identity requests are kept apart (`requests`) and accepted.
 */
async function fakeAutopilot(reply: (cmd: DecodedPacket, n: number) => number | number[] | undefined) {
  const pty = await openPtyPair();
  cleanups.push(() => pty.close());
  const port = new SerialPort({ path: pty.b, baudRate: 57600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  cleanups.push(() => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())));
  const enc = new PacketEncoder(1, 1);
  let rx = Buffer.alloc(0);
  const commands: DecodedPacket[] = [];
  const requests: DecodedPacket[] = [];
  port.on('data', (d: Buffer) => {
    rx = Buffer.concat([rx, d]);
    const all = decodeStream(rx).packets.filter((p) => p.name === 'COMMAND_LONG');
    for (const cmd of all.slice(commands.length + requests.length)) {
      const own = STREAM_REQUESTS.has(cmd.fields!.command as number);
      if (own) requests.push(cmd);
      else commands.push(cmd);
      const r = own ? 0 : reply(cmd, commands.length);
      for (const result of r === undefined ? [] : Array.isArray(r) ? r : [r]) {
        port.write(enc.encode(message(77, { command: cmd.fields!.command, result, progress: 0, resultParam2: 0, targetSystem: 255, targetComponent: 190 })));
      }
    }
  });
  const timer = setInterval(() => {
    port.write(enc.encode(message(0, { type: 2, autopilot: 12, baseMode: 81, customMode: 0, systemStatus: 3, mavlinkVersion: 3 })));
    port.write(enc.encode(message(33, { timeBootMs: 1, lat: 0, lon: 0, alt: 584_000, relativeAlt: 0, vx: 0, vy: 0, vz: 0, hdg: 0 })));
  }, 200);
  cleanups.push(() => clearInterval(timer));
  return { pty, commands, requests };
}

function link(ptyA: string, autopilot: 'ardupilot' | 'px4') {
  const dir = tempDir();
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const l = createFlightLink(linkConfig(`serial:${ptyA}:57600`, { autopilot }), {
    log: silentLog, resolvePort: (p) => p, tlogPath: path.join(dir, 'mavlink-drone.tlog'),
  });
  cleanups.push(() => l.close());
  return l;
}

const opts = { timeoutMs: 2000, retries: 2 };

describe('mode tables', () => {
  it('ArduPilot Copter custom modes', () => {
    expect(modeRequest('ardupilot', 'GUIDED')).toEqual({ param2: 4, param3: 0, customMode: 4 });
    expect(modeRequest('ardupilot', 'land')?.customMode).toBe(9);
    expect(modeRequest('ardupilot', 'smart-rtl')?.customMode).toBe(21);
    expect(modeRequest('ardupilot', 'POSHOLD')?.customMode).toBe(16);
    // Portable names (one table, modes.ts): HOLD is ArduPilot's LOITER.
    expect(modeRequest('ardupilot', 'HOLD')?.customMode).toBe(5);
    expect(modeRequest('ardupilot', 'ZIGZAG_NOT_A_MODE')).toBeUndefined();
    expect(modeName('ardupilot', 5)).toBe('LOITER');
  });

  it('PX4 main/sub modes in custom_mode', () => {
    expect(modeRequest('px4', 'POSCTL')).toEqual({ param2: 3, param3: 0, customMode: 0x00030000 });
    expect(modeRequest('px4', 'AUTO.LAND')).toEqual({ param2: 4, param3: 6, customMode: 0x06040000 });
    expect(modeRequest('px4', 'hold')).toEqual({ param2: 4, param3: 3, customMode: 0x03040000 });
    expect(modeRequest('px4', 'OFFBOARD')?.customMode).toBe(0x00060000);
    // PX4 has no GUIDED: the portable GUIDED is Hold (AUTO.LOITER), as ground stations fly PX4.
    expect(modeRequest('px4', 'GUIDED')).toEqual({ param2: 4, param3: 3, customMode: 0x03040000 });
    expect(modeRequest('px4', 'ALT_HOLD')).toBeUndefined();
    expect(modeRequest('px4', 'POSCTL.LAND')).toBeUndefined();
    expect(modeName('px4', 0x04040000)).toBe('AUTO.MISSION');
    expect(modeName('px4', 0x00070000)).toBe('STABILIZED');
  });
});

describe('commands on the wire', () => {
  it('PX4: set_mode sends main/sub mode, takeoff sends an AMSL altitude', async () => {
    const ap = await fakeAutopilot(() => 0);
    const l = link(ap.pty.a, 'px4');
    await l.open();
    await l.waitFor('heartbeat', 2000);
    await new Promise((r) => setTimeout(r, 300)); // a position report for the home altitude
    expect((await l.command('set_mode', { mode: 'HOLD' }, opts)).result).toBe('ACCEPTED');
    expect((await l.command('takeoff', { altitude: 10 }, opts)).result).toBe('ACCEPTED');
    const [mode, takeoff] = ap.commands;
    expect(mode!.fields).toMatchObject({ command: 176, param1: 1, param2: 4, param3: 3, target_system: 1, target_component: 1 });
    expect(takeoff!.fields!.command).toBe(22);
    expect(takeoff!.fields!.param7).toBeCloseTo(594, 3);
    expect(Number.isNaN(takeoff!.fields!.param5)).toBe(true);
  });

  it('ArduPilot: takeoff altitude is relative, set_mode sends the Copter mode number', async () => {
    const ap = await fakeAutopilot(() => 0);
    const l = link(ap.pty.a, 'ardupilot');
    await l.open();
    await l.waitFor('heartbeat', 2000);
    await l.command('set_mode', { mode: 'GUIDED' }, opts);
    await l.command('takeoff', { altitude: '7.5' }, opts);
    await l.command('disarm', { force: 1 }, opts);
    expect(ap.commands.map((c) => [c.fields!.command, c.fields!.param1, c.fields!.param2, c.fields!.param7])).toEqual([
      [176, 1, 4, 0],
      [22, 0, 0, 7.5],
      [400, 0, 21196, 0],
    ]);
    expect(ap.commands.every((c) => c.sysid === 255 && c.compid === 190)).toBe(true);
  });

  it('retransmits an unanswered command with the confirmation counter raised', async () => {
    const ap = await fakeAutopilot((_c, n) => (n < 3 ? undefined : 0));
    const l = link(ap.pty.a, 'ardupilot');
    await l.open();
    await l.waitFor('heartbeat', 2000);
    const r = await l.command('land', {}, { timeoutMs: 1500, retries: 2 });
    expect(r).toMatchObject({ result: 'ACCEPTED', attempts: 3 });
    expect(ap.commands.map((c) => c.fields!.confirmation)).toEqual([0, 1, 2]);
  });

  it('waits through IN_PROGRESS for the final result', async () => {
    const ap = await fakeAutopilot(() => [5, 5, 4]);
    const l = link(ap.pty.a, 'ardupilot');
    await l.open();
    await l.waitFor('heartbeat', 2000);
    expect(await l.command('reboot', {}, opts)).toMatchObject({ result: 'FAILED', attempts: 1 });
  });

  it('retries TEMPORARILY_REJECTED until accepted', async () => {
    const ap = await fakeAutopilot((_c, n) => (n === 1 ? 1 : 0));
    const l = link(ap.pty.a, 'ardupilot');
    await l.open();
    await l.waitFor('heartbeat', 2000);
    expect(await l.command('MAV_CMD_DO_SET_SERVO', { param1: 9, param2: 1100 }, { timeoutMs: 3000, retries: 1 })).toMatchObject({
      result: 'ACCEPTED', attempts: 2,
    });
    expect(ap.commands[1]!.fields).toMatchObject({ command: 183, param1: 9, param2: 1100 });
  });

  it('refuses unknown commands, modes and bad parameters as input errors before sending anything', async () => {
    const ap = await fakeAutopilot(() => 0);
    const l = link(ap.pty.a, 'ardupilot');
    await l.open();
    await expect(l.command('fly_to_the_moon', {}, opts)).rejects.toMatchObject({ category: 'input', code: 'AIRLOCK_FLIGHT_COMMAND' });
    await expect(l.command('set_mode', { mode: 'HOVER' }, opts)).rejects.toMatchObject({ category: 'input', code: 'AIRLOCK_FLIGHT_MODE' });
    await expect(l.command('takeoff', {}, opts)).rejects.toMatchObject({ category: 'input' });
    await expect(l.command('takeoff', { altitude: 'high' }, opts)).rejects.toMatchObject({ category: 'input' });
    await new Promise((r) => setTimeout(r, 200));
    expect(ap.commands).toHaveLength(0);
  });
});
