/**
 * no_mavlink counts everything the vehicle transmitted, and a broken transport is never a PASS.
 * The vehicle is a raw serial port on the far end of a socat PTY pair, driven by the test; the
 * link records what it hears; the run's own judge (judgeRun) decides the quiet phase over the
 * files the link wrote.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRig, loadScenario } from '../../src/config/index.js';
import { PacketEncoder, createFlightLink, message } from '../../src/devices/flight/index.js';
import type { LinkStats } from '../../src/devices/flight/index.js';
import type { MavlinkFinding } from '../../src/analysis/finding.js';
import { judgeRun } from '../../src/verdict/index.js';
import { openPtyPair } from '../utils/pty.js';
import { crcX25 } from '../utils/mavlink-decoder.js';
import { linkConfig, silentLog, tempDir } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setUp() {
  const pty = await openPtyPair();
  cleanups.push(() => pty.close());
  const dir = tempDir();
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const link = createFlightLink(linkConfig(`serial:${pty.a}:57600`), { log: silentLog, resolvePort: (p) => p, tlogPath: path.join(dir, 'mavlink-drone.tlog') });
  cleanups.push(() => link.close());
  const port = new SerialPort({ path: pty.b, baudRate: 57600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  port.on('error', () => {}); // the far side going away is what one test does
  cleanups.push(() => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())));
  const write = (buf: Buffer) => new Promise<void>((resolve) => port.write(buf, () => port.drain(() => resolve())));
  fs.writeFileSync(
    path.join(dir, 'quiet.yaml'),
    `scenario: quiet\nrig: ${path.resolve('rig/virtual.yaml')}\nphases:\n  - name: quiet\n    steps:\n      - dwell: 1s\n    assert:\n      - no_mavlink: { link: drone }\n`,
  );
  const judge = (stats: LinkStats, fromMs: number, toMs: number) =>
    judgeRun({
      runDir: dir,
      rig: loadRig('rig/virtual.yaml'),
      scenario: loadScenario(path.join(dir, 'quiet.yaml')),
      windows: [{ startMs: fromMs, endMs: toMs }],
      capturesEndMs: toMs,
      incomplete: new Set(),
      captures: [{ name: 'drone', kind: 'mavlink', files: ['mavlink-drone.tlog'], records: 0, dropped: 0, lossy: stats.lossy !== undefined, ...(stats.lossy ? { reason: stats.lossy } : {}) }],
    });
  return { pty, dir, link, port, write, judge };
}

const enc = new PacketEncoder(1, 1);
const heartbeat = () => enc.encode(message(0, { type: 2, autopilot: 3, baseMode: 81, customMode: 0, systemStatus: 3, mavlinkVersion: 3 }));

describe('no_mavlink counts every transmission', () => {
  it('a vehicle that goes quiet passes; a CRC-damaged frame in the quiet phase fails, reported as damaged', async () => {
    const { link, write, judge, dir } = await setUp();
    await link.open();
    await write(heartbeat());
    await link.waitFor('heartbeat', 2000);
    link.setQuiet(true);
    await sleep(300);
    const quietFrom = Date.now();
    await sleep(800);
    const cleanTo = Date.now();
    // A GLOBAL_POSITION_INT from system 1 with its last CRC byte flipped: the vehicle
    // transmitted it. (Chosen with no start byte inside, so it is one damaged run.)
    let bad: Buffer = Buffer.alloc(0);
    for (let t = 1; t < 1000; t++) {
      bad = enc.encode(message(33, { timeBootMs: t, lat: 1000, lon: 2000, alt: 3000, relativeAlt: 4000, vx: 0, vy: 0, vz: 0, hdg: 0 }));
      bad[bad.length - 1]! ^= 0xff;
      if (!bad.subarray(1).includes(0xfd) && !bad.subarray(1).includes(0xfe)) break;
    }
    await write(bad);
    await sleep(300);
    const stats = link.stats();
    await link.close();
    expect(stats.crcErrors).toBeGreaterThan(0);
    expect(stats.lossy).toBeUndefined();

    const silent = await judge(stats, quietFrom, cleanTo);
    expect(silent.phases[0]!.assertions.find((x) => x.kind === 'no_mavlink')).toMatchObject({ kind: 'no_mavlink', verdict: 'PASS' });

    const j = await judge(stats, quietFrom, Date.now());
    const a = j.phases[0]!.assertions.find((x) => x.kind === 'no_mavlink')!;
    expect(a.verdict).toBe('FAIL');
    expect(a.findings).toHaveLength(1);
    expect(a.findings[0]).toMatchObject({ kind: 'mavlink', file: 'mavlink-drone.rxerrors.jsonl', packet: 1, messages: { CRC_DAMAGED_FRAME: 1 } });
    expect(a.findings[0]!.summary).toMatch(/CRC-damaged frame/);
    // The damaged bytes are kept as they came (the whole frame, checked by the test's own CRC).
    const line = JSON.parse(fs.readFileSync(path.join(dir, 'mavlink-drone.rxerrors.jsonl'), 'utf8').trim().split('\n')[0]!) as { hex: string; kind: string; msgid: number; sysid: number };
    expect(line).toMatchObject({ kind: 'bad_crc', msgid: 33, sysid: 1 });
    expect(line.hex).toBe(bad.toString('hex'));
    const raw = Buffer.from(line.hex, 'hex');
    expect(crcX25(raw.subarray(1, raw.length - 2), 104)).not.toBe(raw.readUInt16LE(raw.length - 2));
  });

  it('a packet of an unknown message id in the quiet phase fails, named as unknown', async () => {
    const { link, write, judge } = await setUp();
    await link.open();
    await write(heartbeat());
    await link.waitFor('heartbeat', 2000);
    link.setQuiet(true);
    await sleep(200);
    const from = Date.now();
    // MAVLink 2, message id 0x0BEEF0 (no definition), from system 1, CRC written without CRC_EXTRA.
    const payload = Buffer.from('secret');
    const hdr = Buffer.from([0xfd, payload.length, 0, 0, 7, 1, 1, 0xf0, 0xee, 0x0b]);
    const body = Buffer.concat([hdr, payload]);
    const crc = Buffer.alloc(2);
    crc.writeUInt16LE(crcX25(body.subarray(1)));
    await write(Buffer.concat([body, crc]));
    await sleep(300);
    const stats = link.stats();
    await link.close();
    const a = (await judge(stats, from, Date.now())).phases[0]!.assertions.find((x) => x.kind === 'no_mavlink')!;
    expect(a.verdict).toBe('FAIL');
    expect((a.findings[0] as MavlinkFinding).messages).toEqual({ UNKNOWN_782064: 1 });
    expect(a.findings[0]!.summary).toMatch(/1 of unknown message ids/);
  });

  it('a serial port that disappears mid-phase makes the record lossy and no_mavlink INCONCLUSIVE', async () => {
    const { link, write, judge, pty } = await setUp();
    await link.open();
    await write(heartbeat());
    await link.waitFor('heartbeat', 2000);
    link.setQuiet(true);
    await sleep(300);
    const from = Date.now();
    await sleep(300);
    await pty.close(); // socat gone: both PTY ends vanish, as a USB radio pulled out
    const deadline = Date.now() + 5000;
    while (link.stats().lossy === undefined && Date.now() < deadline) await sleep(50);
    const stats = link.stats();
    await link.close();
    expect(stats.lossy).toMatch(/serial/);
    const a = (await judge(stats, from, Date.now())).phases[0]!.assertions.find((x) => x.kind === 'no_mavlink')!;
    expect(a.verdict, a.findings.map((f) => f.summary).join('; ')).toBe('INCONCLUSIVE');
    expect(a.reason).toMatch(/telemetry record drone is lossy: serial/);
  });
});
