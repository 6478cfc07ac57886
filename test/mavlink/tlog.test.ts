/**
 * The tlog reader: framing by each packet's own length, chunk boundaries, damage counted and
 * resynchronised, unknown ids skipped, time windows and system filters for `no_mavlink`.
 * Expectations come from the independent decoder in test/utils, or are written literally.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PacketEncoder, TlogWriter, message, readTlog, summarizeTlog } from '../../src/devices/flight/index.js';
import type { TlogReadStats } from '../../src/devices/flight/index.js';
import { decodeTlog } from '../utils/mavlink-decoder.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const T0_US = 1_790_000_000_000_000; // 2026-09-21, UNIX µs

/** 300 packets: vehicle (sysid 1) telemetry at 10 ms steps, a GCS heartbeat (255) every 10th. */
function writeSample(file: string, n = 300): void {
  const w = new TlogWriter(file);
  const veh = new PacketEncoder(1, 1);
  const gcs = new PacketEncoder(255, 190);
  veh.version = 2;
  gcs.version = 1;
  for (let i = 0; i < n; i++) {
    const t = T0_US + i * 10_000;
    if (i % 10 === 0) {
      w.write(gcs.encode(message(0, { type: 6, autopilot: 8, baseMode: 0, customMode: 0, systemStatus: 4, mavlinkVersion: 3 })), t);
    } else if (i % 3 === 0) {
      w.write(veh.encode(message(30, { timeBootMs: i, roll: 0.1, pitch: -0.1, yaw: 1, rollspeed: 0, pitchspeed: 0, yawspeed: 0 })), t);
    } else {
      w.write(veh.encode(message(33, { timeBootMs: i, lat: -353632620, lon: 1491652370, alt: 584000 + i, relativeAlt: i, vx: 0, vy: 0, vz: 0, hdg: 0 })), t);
    }
  }
  w.close();
}

async function collect(file: string, chunkSize?: number): Promise<{ stats: TlogReadStats; recs: string[] }> {
  const recs: string[] = [];
  const stats = await readTlog(file, (r) => recs.push(`${r.index}:${r.timeUs}:${r.sysid}:${r.msgid}:${r.seq}:${r.buf.subarray(r.start, r.start + r.length).toString('hex')}`), chunkSize ? { chunkSize } : {});
  return { stats, recs };
}

describe('tlog reader', () => {
  const sample = path.join(dir, 'sample.tlog');
  writeSample(sample);

  it('reads every packet, CRC checked, agreeing with the independent decoder', async () => {
    const { stats, recs } = await collect(sample);
    expect(stats).toMatchObject({ records: 300, packets: 300, crcErrors: 0, unknownIds: 0, badBytes: 0 });
    expect(stats.damagedAtOffset).toBeUndefined();
    expect(stats.firstTimeUs).toBe(T0_US);
    expect(stats.lastTimeUs).toBe(T0_US + 299 * 10_000);
    const indep = decodeTlog(fs.readFileSync(sample));
    expect(indep.badCrc).toBe(0);
    expect(recs).toEqual(
      indep.packets.map((p) => `${p.index}:${p.timeUs}:${p.sysid}:${p.msgid}:${p.seq}:${p.raw.toString('hex')}`),
    );
  });

  it('gives the same answer whatever the read chunk size (no loss at boundaries)', async () => {
    const big = await collect(sample);
    for (const size of [1024, 1031, 4099]) {
      const small = await collect(sample, size);
      expect(small.recs, `chunk ${size}`).toEqual(big.recs);
      expect(small.stats).toEqual(big.stats);
    }
  });

  it('is not fooled by timestamps that contain start bytes', async () => {
    const file = path.join(dir, 'magic-ts.tlog');
    const w = new TlogWriter(file);
    const enc = new PacketEncoder(1, 1);
    const hb = () => enc.encode(message(0, { type: 2, autopilot: 3, baseMode: 81, customMode: 0, systemStatus: 3, mavlinkVersion: 3 }));
    const base = Math.floor(T0_US / 2 ** 32) * 2 ** 32;
    // low timestamp bytes FD FE FD FE, FE FD .., and a timestamp ending in FD
    for (const low of [0x000000fd, 0xfd000000, 0xfdfefdfe, 0xfefdfefd]) w.write(hb(), base + low);
    w.close();
    const { stats, recs } = await collect(file);
    expect(stats.packets).toBe(4);
    expect(stats.badBytes).toBe(0);
    expect(recs.map((r) => Number(r.split(':')[1]) - base)).toEqual([0xfd, 0xfd000000, 0xfdfefdfe, 0xfefdfefd]);
  });

  it('counts a bad CRC, keeps the framing, and reads on', async () => {
    const file = path.join(dir, 'crc.tlog');
    const buf = fs.readFileSync(sample);
    buf[100 * 0 + 8 + 12] ^= 0xff; // a payload byte of the first record
    fs.writeFileSync(file, buf);
    const { stats } = await collect(file);
    expect(stats).toMatchObject({ records: 300, packets: 299, crcErrors: 1, badBytes: 0, damagedAtOffset: 0 });
    expect(decodeTlog(buf).packets.length).toBe(299);
  });

  it('resynchronises after damaged framing, reports where, and loses only the damaged records', async () => {
    const file = path.join(dir, 'damaged.tlog');
    const buf = fs.readFileSync(sample);
    const off = 2000;
    buf.fill(0x00, off, off + 50); // wipe 50 bytes mid-file
    fs.writeFileSync(file, buf);
    const { stats, recs } = await collect(file);
    expect(stats.damagedAtOffset).toBeGreaterThanOrEqual(off - 300);
    expect(stats.damagedAtOffset).toBeLessThanOrEqual(off); // the record the wipe starts in
    expect(stats.badBytes).toBeGreaterThan(0);
    const indep = decodeTlog(buf).packets.map((p) => `${p.timeUs}:${p.seq}:${p.msgid}`);
    const ours = recs.map((r) => r.split(':').slice(1, 5)).map(([t, , m, s]) => `${t}:${s}:${m}`);
    expect(ours).toEqual(indep);
    expect(ours.length).toBeGreaterThanOrEqual(300 - 4);
    expect(ours.length).toBeLessThan(300);
    // the last record is still read
    expect(Number(recs.at(-1)!.split(':')[1])).toBe(T0_US + 299 * 10_000);
  });

  it('reports a truncated last record (a cut run) as damage, keeping everything before it', async () => {
    const file = path.join(dir, 'cut.tlog');
    const buf = fs.readFileSync(sample);
    fs.writeFileSync(file, buf.subarray(0, buf.length - 5));
    const { stats } = await collect(file);
    expect(stats.packets).toBe(299);
    expect(stats.damagedAtOffset).toBeGreaterThan(buf.length - 60);
  });

  it('skips and counts packets of unknown message ids', async () => {
    const file = path.join(dir, 'unknown.tlog');
    const w = new TlogWriter(file);
    const enc = new PacketEncoder(1, 1);
    w.write(enc.encode(message(0, { type: 2, autopilot: 3, baseMode: 81, customMode: 0, systemStatus: 3, mavlinkVersion: 3 })), T0_US);
    // v2, 4-byte payload, msgid 0xEEEE01 (no such message), arbitrary CRC
    w.write(Buffer.from([0xfd, 4, 0, 0, 9, 1, 1, 0x01, 0xee, 0xee, 1, 2, 3, 4, 0xaa, 0xbb]), T0_US + 1);
    w.write(enc.encode(message(0, { type: 2, autopilot: 3, baseMode: 81, customMode: 0, systemStatus: 3, mavlinkVersion: 3 })), T0_US + 2);
    w.close();
    const { stats } = await collect(file);
    expect(stats).toMatchObject({ records: 3, packets: 2, unknownIds: 1, crcErrors: 0, badBytes: 0 });
  });
});

describe('summarizeTlog', () => {
  const sample = path.join(dir, 'summary.tlog');
  writeSample(sample);

  it('counts what one system sent, by message, with its first packet number and times', async () => {
    const s = await summarizeTlog(sample, { systemId: 1 });
    // 300 packets; every 10th is the GCS's: 30. Of the rest, i % 3 === 0 (and not % 10) are ATTITUDE.
    let att = 0;
    for (let i = 0; i < 300; i++) if (i % 10 !== 0 && i % 3 === 0) att++;
    expect(s).toMatchObject({ packets: 300, fromSystem: 270, firstPacket: 2, crcErrors: 0 });
    expect(s.messages).toEqual({ ATTITUDE: att, GLOBAL_POSITION_INT: 270 - att });
    expect(s.firstTimeMs).toBe((T0_US + 10_000) / 1000);
    expect(s.lastTimeMs).toBe((T0_US + 299 * 10_000) / 1000);
  });

  it('limits to a time window (inclusive, ms)', async () => {
    const fromMs = (T0_US + 100 * 10_000) / 1000;
    const toMs = (T0_US + 149 * 10_000) / 1000;
    const s = await summarizeTlog(sample, { systemId: 255, fromMs, toMs });
    expect(s).toMatchObject({ packets: 50, fromSystem: 5, firstPacket: 101, messages: { HEARTBEAT: 5 } });
    const none = await summarizeTlog(sample, { systemId: 7 });
    expect(none.fromSystem).toBe(0);
    expect(none.firstPacket).toBeUndefined();
  });
});

describe('TlogWriter', () => {
  it('flushes to disk at least every second while open, and everything on close', async () => {
    const file = path.join(dir, 'flush.tlog');
    const w = new TlogWriter(file);
    const enc = new PacketEncoder(1, 1);
    const hb = enc.encode(message(0, { type: 2, autopilot: 3, baseMode: 81, customMode: 0, systemStatus: 3, mavlinkVersion: 3 }));
    w.write(hb, T0_US);
    expect(fs.statSync(file).size).toBe(0);
    await new Promise((r) => setTimeout(r, 1150));
    expect(fs.statSync(file).size).toBe(8 + hb.length);
    w.write(hb, T0_US + 1);
    w.close();
    expect(fs.statSync(file).size).toBe(2 * (8 + hb.length));
    const d = decodeTlog(fs.readFileSync(file));
    expect(d.packets.map((p) => p.timeUs)).toEqual([BigInt(T0_US), BigInt(T0_US + 1)]);
  });
});

