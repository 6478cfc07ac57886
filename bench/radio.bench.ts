/**
 * Benchmark of the radio decoders against tshark, in one run, on generated captures:
 *   - a Wi-Fi monitor capture (radiotap, link type 127): Remote ID beacons, NAN frames, probe
 *     requests, data frames from several transmitters;
 *   - a BLE sniffer capture (nRF Sniffer v3, link type 272): BLE 5 LE Coded extended
 *     advertising chains carrying Remote ID, and legacy advertising of other devices.
 * For each: `airlock analyze FILE --json` (compiled, its own process) against
 * `tshark -r FILE -Y FILTER -T fields -e frame.number` selecting the same Remote ID frames,
 * printing frames per second, the ratio and peak RSS; and it checks both found the same
 * number of Remote ID frames (a benchmark that decodes less is not faster).
 *
 *   npx tsx bench/radio.bench.ts [--frames N] [--runs N] [--dir DIR]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as F from '../src/sim/radio/frames.js';
import { pcapHeader, pcapRecord } from '../src/sim/radio/pcap-writer.js';
import { encodeOdidMessagePack } from '../src/sim/radio/remote-id.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const FRAMES = arg('frames', 200_000);
const RUNS = arg('runs', 3);
const dirArg = process.argv.indexOf('--dir');
const dir = dirArg > 0 ? process.argv[dirArg + 1]! : path.join(tmpdir(), 'airlock-bench');
mkdirSync(dir, { recursive: true });
const T0 = Date.UTC(2026, 10, 24, 9);

/** Writes `n` records produced by `make(i)` (each may yield several records) to `file`; returns the Remote ID frame count. */
function write(file: string, linkType: number, n: number, make: (i: number) => { data: Buffer; rid: boolean }[]): { records: number; rid: number } {
  const chunks: Buffer[] = [pcapHeader(linkType)];
  let records = 0;
  let rid = 0;
  for (let i = 0; records < n; i++) {
    for (const r of make(i)) {
      chunks.push(pcapRecord(T0 + records, r.data));
      records++;
      if (r.rid) rid++;
    }
  }
  writeFileSync(file, Buffer.concat(chunks));
  return { records, rid };
}

const mac = (i: number) => `02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const pack = (i: number) => encodeOdidMessagePack({ serial: `SN-BENCH-${i % 50}`, lat: 47 + (i % 100) / 1e4, lon: 8.5, altGeoM: 400, operatorLat: 47, operatorLon: 8.5, operatorId: `OP-${i % 50}`, timeMs: T0 });

function wifiFile(): { file: string; records: number; rid: number } {
  const file = path.join(dir, `radio-wifi-${FRAMES}.pcap`);
  const rt = F.radiotapHeader({ signalDbm: -50, channelMhz: 2437 });
  const w = write(file, 127, FRAMES, (i) => {
    const k = i % 10;
    if (k === 0) return [{ data: Buffer.concat([rt, F.beacon({ ta: mac(i % 50), ssid: 'RID', elements: [F.odidElement(i & 255, pack(i))] })]), rid: true }];
    if (k === 1) return [{ data: Buffer.concat([rt, F.nanSdf({ ta: mac(i % 50), counter: i & 255, pack: pack(i) })]), rid: true }];
    if (k === 2) return [{ data: Buffer.concat([rt, F.probeRequest({ ta: mac(100 + (i % 20)), ssid: 'HomeNet' })]), rid: false }];
    return [{ data: Buffer.concat([rt, F.dataFrame({ ta: mac(200 + (i % 30)), ra: mac(1), etherType: 0x0800, payload: Buffer.alloc(200, 7) })]), rid: false }];
  });
  return { file, ...w };
}

/** Packets of one BLE extended advertising event in the generated capture (ADV_EXT_IND, AUX_ADV_IND, AUX_CHAIN_IND...). */
let blePacketsPerEvent = 0;

function bleFile(): { file: string; records: number; rid: number } {
  const file = path.join(dir, `radio-ble-${FRAMES}.pcap`);
  const w = write(file, 272, FRAMES, (i) => {
    if (i % 2 === 1) return [{ data: F.nordicBle(F.bleAdvPacket({ advertiser: `d0:00:00:00:00:${(i % 200).toString(16).padStart(2, '0')}`, ad: [F.adStructure(0x09, Buffer.from('Tag'))], pduType: 0 }), { channel: 37, rssiDbm: -70, version: 3 }), rid: false }];
    const ad = F.adStructure(0x16, Buffer.concat([Buffer.from([0xfa, 0xff, 0x0d, i & 255]), pack(i)]));
    const ev = F.bleExtAdvertisingEvent({ advertiser: `c0:11:22:33:00:${(i % 50).toString(16).padStart(2, '0')}`, adi: { sid: 1, did: i & 0xfff }, advData: ad, phy: 'coded', maxData: 60 });
    blePacketsPerEvent = ev.length;
    // The AUX_ADV_IND (index 1) is the frame tshark can select (it carries AdvA).
    return ev.map((e, j) => ({ data: F.nordicBle(e.ll, { channel: e.channel, rssiDbm: -78, version: 3, phy: 'coded', auxType: j <= 1 ? 0 : 1 }), rid: j === 1 }));
  });
  return { file, ...w };
}

interface Timed {
  wallS: number;
  /** User + system CPU seconds: steadier than wall time on a shared machine. */
  cpuS: number;
  maxRssKB: number;
  stdout: string;
}

function timed(argv: string[]): Timed {
  const r = spawnSync('/usr/bin/time', ['-f', 'AIRLOCK_TIME %e %U %S %M', ...argv], { cwd: root, maxBuffer: 256 * 1024 * 1024 });
  const err = r.stderr.toString();
  const m = /AIRLOCK_TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(err);
  if (!m || (r.status !== 0 && r.status !== 1)) throw new Error(`${argv.join(' ')} failed (${r.status}): ${err.slice(-500)}`);
  return { wallS: Number(m[1]), cpuS: Number(m[2]) + Number(m[3]), maxRssKB: Number(m[4]), stdout: r.stdout.toString() };
}

const median = (xs: Timed[]) => [...xs].sort((a, b) => a.cpuS - b.cpuS)[Math.floor(xs.length / 2)]!;

function bench(name: string, f: { file: string; records: number; rid: number }, filter: string): void {
  const cli = path.join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error('dist/ is missing: run ./airlock --setup-only first');
  const ours = median(Array.from({ length: RUNS }, () => timed([process.execPath, cli, 'analyze', f.file, '--lab', '10.0.0.0/8', '--json'])));
  const doc = JSON.parse(ours.stdout) as { findings: Array<{ carrier?: string; count?: number }> };
  const ourRid = doc.findings.filter((x) => x.carrier && x.carrier !== 'wifi-probe-request').reduce((s, x) => s + (x.carrier === 'ble5-extended' ? (x.count ?? 0) / blePacketsPerEvent : (x.count ?? 0)), 0);
  const ts = median(Array.from({ length: RUNS }, () => timed(['tshark', '-r', f.file, '-Y', filter, '-T', 'fields', '-e', 'frame.number'])));
  const tsRid = ts.stdout.split('\n').filter(Boolean).length;
  const rate = (t: Timed) => Math.round(f.records / t.cpuS);
  const line = (who: string, t: Timed, rid: number) =>
    `  ${who}  CPU ${t.cpuS.toFixed(2)} s (wall ${t.wallS.toFixed(2)} s)  ${rate(t).toLocaleString('en')} frames per CPU second  peak RSS ${Math.round(t.maxRssKB / 1024)} MB  Remote ID frames ${rid}`;
  console.log(`${name}: ${f.records} frames, ${f.rid} carrying Remote ID (median of ${RUNS} runs, by CPU time)`);
  console.log(line('airlock analyze ', ours, ourRid));
  console.log(line('tshark -Y filter', ts, tsRid));
  console.log(`  ratio (CPU time): airlock is ${(ts.cpuS / ours.cpuS).toFixed(1)}x tshark`);
  if (ourRid !== tsRid || tsRid !== f.rid) console.log(`  MISMATCH: generated ${f.rid}, airlock ${ourRid}, tshark ${tsRid}`);
}

bench('Wi-Fi (radiotap, 127)', wifiFile(), 'wlan.tag.oui == 0xfa0bbc || nan.attribute.type == 3');
// Airlock counts every packet of a chain; divided by the packets per event above to count broadcasts.
bench('BLE (nRF Sniffer v3, LE Coded, 272)', bleFile(), 'nordic_ble.aux_type == 0 && nordic_ble.channel < 37 && btle.advertising_header.pdu_type == 0x07');
