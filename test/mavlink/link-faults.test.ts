/**
 * What a real radio link does to us: silence, garbage, damaged packets, heartbeat loss; the
 * quiet switch; MAVLink 1; UDP and TCP endpoints. The far end is a raw serial port (or socket)
 * driven by the test, so what crossed the line is checked by the independent decoder.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { FlightError, PacketEncoder, createFlightLink, message, parseEndpoint } from '../../src/devices/flight/index.js';
import type { FlightLink } from '../../src/devices/flight/index.js';
import { startVehicle } from '../../src/sim/vehicle/vehicle.js';
import { decodeStream, decodeTlog } from '../utils/mavlink-decoder.js';
import { openPtyPair } from '../utils/pty.js';
import { linkConfig, silentLog, tempDir } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function rawPort(p: string): Promise<{ port: SerialPort; received: Buffer[] }> {
  const port = new SerialPort({ path: p, baudRate: 57600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  const received: Buffer[] = [];
  port.on('data', (d: Buffer) => received.push(d));
  cleanups.push(() => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())));
  return { port, received };
}

async function serialLink(extra: Parameters<typeof linkConfig>[1] = {}) {
  const pty = await openPtyPair();
  cleanups.push(() => pty.close());
  const dir = tempDir();
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tlogPath = path.join(dir, 'mavlink-drone.tlog');
  const link = createFlightLink(linkConfig(`serial:${pty.a}:57600`, extra), { log: silentLog, resolvePort: (p) => p, tlogPath });
  cleanups.push(() => link.close());
  return { pty, link, tlogPath };
}

/** A vehicle-side heartbeat, encoded by us (the input under test is the link's handling). */
function vehicleHeartbeat(enc: PacketEncoder): Buffer {
  return enc.encode(message(0, { type: 2, autopilot: 3, baseMode: 81, customMode: 0, systemStatus: 3, mavlinkVersion: 3 }));
}

function write(port: SerialPort, buf: Buffer): Promise<void> {
  return new Promise((resolve) => port.write(buf, () => port.drain(() => resolve())));
}

describe('link faults', () => {
  it('a silent link: waitFor heartbeat rejects with a rig fault naming the link', async () => {
    const { link } = await serialLink();
    await link.open();
    const err = await link.waitFor('heartbeat', 800).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlightError);
    const fe = err as FlightError;
    expect(fe.category).toBe('rig');
    expect(fe.code).toBe('AIRLOCK_FLIGHT_SILENT');
    expect(fe.link).toBe('drone');
    expect(fe.condition).toBe('heartbeat');
    expect(fe.message).toMatch(/^drone: waitFor heartbeat: no MAVLink/);
    // A command nobody answers: retried, then a rig fault naming the command.
    const cmdErr = await link.command('arm', {}, { timeoutMs: 600, retries: 2 }).catch((e: unknown) => e);
    expect(cmdErr).toBeInstanceOf(FlightError);
    expect((cmdErr as FlightError).category).toBe('rig');
    expect((cmdErr as FlightError).message).toMatch(/^drone: arm: no COMMAND_ACK after 3 attempt/);
    expect(link.stats().tx.COMMAND_LONG).toBe(3);
  });

  it('closing the link ends a pending command at once with a clear error', async () => {
    const { link } = await serialLink();
    await link.open();
    const pending = link.command('arm', {}, { timeoutMs: 10_000, retries: 0 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await link.close();
    const err = (await pending) as FlightError;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(err.code).toBe('AIRLOCK_FLIGHT_CLOSED');
    expect(err.message).toMatch(/^drone: arm: /);
  });

  it('a garbage-only link is a rig fault that says so; damaged bytes are counted', async () => {
    const { pty, link } = await serialLink();
    await link.open();
    const { port } = await rawPort(pty.b);
    const garbage = Buffer.alloc(600);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 37 + 11) & 0xff;
    const wait = link.waitFor('heartbeat', 1200).catch((e: unknown) => e);
    await write(port, garbage);
    const err = (await wait) as FlightError;
    expect(err).toBeInstanceOf(FlightError);
    expect(err.code).toBe('AIRLOCK_FLIGHT_GARBAGE');
    expect(err.category).toBe('rig');
    expect(link.stats().badBytes).toBeGreaterThan(0);
  });

  it('counts bad CRCs and bad bytes and keeps going; heartbeat loss is reported', async () => {
    const { pty, link, tlogPath } = await serialLink({ heartbeatTimeoutMs: 700 });
    await link.open();
    const { port } = await rawPort(pty.b);
    const enc = new PacketEncoder(1, 1);
    const good1 = vehicleHeartbeat(enc);
    const damaged = vehicleHeartbeat(enc);
    damaged[damaged.length - 3] ^= 0x55; // a payload byte: CRC no longer matches
    const good2 = vehicleHeartbeat(enc);
    await write(port, Buffer.concat([Buffer.from('noise\r\n'), good1, damaged, Buffer.from([0x00, 0x13]), good2]));
    await link.waitFor('heartbeat', 2000);
    await new Promise((r) => setTimeout(r, 300));
    let s = link.stats();
    expect(s.rx.HEARTBEAT).toBe(2);
    expect(s.crcErrors).toBeGreaterThanOrEqual(1);
    expect(s.badBytes).toBeGreaterThanOrEqual(7 + damaged.length + 2);
    expect(s.seqGaps).toBe(1); // the damaged packet's sequence number never arrived
    // Silence: the link is declared lost, with a time.
    await new Promise((r) => setTimeout(r, 1000));
    s = link.stats();
    expect(s.heartbeatLosses).toBe(1);
    expect(s.events.map((e) => e.type)).toEqual(['up', 'lost']);
    expect(s.events[1]!.time - s.events[0]!.time).toBeGreaterThanOrEqual(700);
    await link.close();
    // Only the two good packets from the vehicle are in the record.
    const fromVehicle = decodeTlog(fs.readFileSync(tlogPath)).packets.filter((p) => p.sysid === 1);
    expect(fromVehicle.map((p) => p.seq)).toEqual([0, 2]);
  });

  it('quiet: nothing at all is sent while quiet; heartbeats resume after', async () => {
    const { pty, link } = await serialLink();
    const { received } = await rawPort(pty.b);
    link.setQuiet(true);
    await link.open();
    const err = await link.command('arm', {}, { timeoutMs: 500, retries: 0 }).catch((e: unknown) => e);
    expect((err as FlightError).code).toBe('AIRLOCK_FLIGHT_QUIET');
    await new Promise((r) => setTimeout(r, 2300));
    expect(Buffer.concat(received).length).toBe(0);
    expect(link.stats().tx).toEqual({});
    link.setQuiet(false);
    await new Promise((r) => setTimeout(r, 1300));
    const seen = decodeStream(Buffer.concat(received));
    expect(seen.badCrc).toBe(0);
    expect(seen.packets.length).toBeGreaterThanOrEqual(1);
    expect(seen.packets.every((p) => p.name === 'HEARTBEAT' && p.sysid === 255 && p.fields!.type === 6)).toBe(true);
  });

  it('speaks MAVLink 1 to a MAVLink 1 vehicle', async () => {
    const { pty, link, tlogPath } = await serialLink();
    const vehicle = await startVehicle({ path: pty.b, baudRate: 57600, systemId: 1, prearmDelayMs: 0, mavlinkVersion: 1 });
    cleanups.push(() => vehicle.stop());
    await link.open();
    await link.waitFor('heartbeat', 3000);
    const r = await link.command('arm', {}, { timeoutMs: 3000, retries: 2 });
    expect(r.result).toBe('ACCEPTED');
    await link.waitFor('armed', 2000);
    await link.close();
    const pk = decodeTlog(fs.readFileSync(tlogPath)).packets;
    const cmd = pk.find((p) => p.name === 'COMMAND_LONG' && p.fields?.command === 400);
    expect(cmd?.version).toBe(1);
    // The stream requests at the first heartbeat went out in MAVLink 1 too.
    expect(pk.filter((p) => p.name === 'COMMAND_LONG' && p.fields?.command === 511).every((p) => p.version === 1)).toBe(true);
    expect(pk.filter((p) => p.sysid === 1).every((p) => p.version === 1)).toBe(true);
  });

  it('stops hearing a vehicle that stops transmitting (soft power-off)', async () => {
    const { pty, link } = await serialLink({ heartbeatTimeoutMs: 1200 });
    const vehicle = await startVehicle({ path: pty.b, baudRate: 57600, systemId: 1, prearmDelayMs: 0 });
    cleanups.push(() => vehicle.stop());
    await link.open();
    await link.waitFor('heartbeat', 3000);
    vehicle.setTransmitting(false);
    const before = link.stats().rx.HEARTBEAT ?? 0;
    await new Promise((r) => setTimeout(r, 1600));
    const s = link.stats();
    expect(s.heartbeatLosses).toBe(1);
    expect(s.rx.HEARTBEAT ?? 0).toBeLessThanOrEqual(before + 1);
  });
});

describe('network endpoints', () => {
  it('udp: listens, and replies to the last peer heard', async () => {
    const dir = tempDir();
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const port = 20000 + Math.floor(Math.random() * 20000);
    const link = createFlightLink(linkConfig(`udp:127.0.0.1:${port}`), {
      log: silentLog, resolvePort: (p) => p, tlogPath: path.join(dir, 'mavlink-drone.tlog'),
    });
    cleanups.push(() => link.close());
    await link.open();
    const peer = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => peer.close(() => r())));
    const got: Buffer[] = [];
    peer.on('message', (m) => got.push(m));
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    const enc = new PacketEncoder(1, 1);
    peer.send(vehicleHeartbeat(enc), port, '127.0.0.1');
    await link.waitFor('heartbeat', 2000);
    await new Promise((r) => setTimeout(r, 1200));
    const seen = decodeStream(Buffer.concat(got));
    expect(seen.packets.some((p) => p.name === 'HEARTBEAT' && p.sysid === 255)).toBe(true);
  });

  it('tcp: connects and talks', async () => {
    const dir = tempDir();
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const got: Buffer[] = [];
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => {
      sockets.push(s);
      s.on('data', (d) => got.push(d));
      s.write(vehicleHeartbeat(new PacketEncoder(1, 1)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => { sockets.forEach((s) => s.destroy()); server.close(() => r()); }));
    const { port } = server.address() as net.AddressInfo;
    const link = createFlightLink(linkConfig(`tcp:127.0.0.1:${port}`), {
      log: silentLog, resolvePort: (p) => p, tlogPath: path.join(dir, 'mavlink-drone.tlog'),
    });
    cleanups.push(() => link.close());
    await link.open();
    await link.waitFor('heartbeat', 2000);
    await new Promise((r) => setTimeout(r, 200));
    expect(decodeStream(Buffer.concat(got)).packets[0]?.name).toBe('HEARTBEAT');
  });

  it('a refused connection is a rig fault naming the link', async () => {
    const dir = tempDir();
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const link = createFlightLink(linkConfig('tcp:127.0.0.1:1'), {
      log: silentLog, resolvePort: (p) => p, tlogPath: path.join(dir, 'mavlink-drone.tlog'),
    });
    const err = await link.open().catch((e: unknown) => e);
    expect((err as { category: string }).category).toBe('rig');
    expect((err as Error).message).toMatch(/^drone: open tcp:127\.0\.0\.1:1: /);
  });

  it('parses endpoint strings and refuses bad ones as input errors', () => {
    expect(parseEndpoint('serial:/dev/ttyUSB0:57600')).toEqual({ kind: 'serial', path: '/dev/ttyUSB0', baudRate: 57600 });
    expect(parseEndpoint('serial:sim:drone:115200', (p) => (p === 'sim:drone' ? '/dev/pts/9' : p))).toEqual({
      kind: 'serial', path: '/dev/pts/9', baudRate: 115200,
    });
    expect(parseEndpoint('udp:0.0.0.0:14550')).toEqual({ kind: 'udp', host: '0.0.0.0', port: 14550 });
    expect(parseEndpoint('udpout:10.0.0.2:14550')).toEqual({ kind: 'udpout', host: '10.0.0.2', port: 14550 });
    expect(parseEndpoint('tcp:127.0.0.1:5760')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 5760 });
    for (const bad of ['serial:/dev/ttyUSB0', 'udp:14550', 'tcp:host:99999', 'mavlink://x', '']) {
      expect(() => parseEndpoint(bad), bad).toThrow(expect.objectContaining({ category: 'input', code: 'AIRLOCK_FLIGHT_ENDPOINT' }));
    }
  });
});
