/**
 * Seed inputs for the targets whose formats have no fixture file in the repository, made the
 * way the tests make theirs: the evidence tests' run directory (test/evidence/run-fixture.ts:
 * its tlog, sweep CSV, manifest, signature and bundle), the tlog test's writer, and the frame
 * builders the radio tests use (src/sim/radio/frames.ts). Targets with fixture files read those
 * directories directly (test/fuzz/run.ts lists them).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { readCapture } from '../../src/analysis/index.js';
import { PacketEncoder, TlogWriter, message } from '../../src/devices/flight/index.js';
import * as F from '../../src/sim/radio/frames.js';
import { encodeBasicId, encodeLocation, encodeOdidMessagePack, encodeSystem } from '../../src/sim/radio/remote-id.js';
import { evidenceFixture } from './targets/evidence-fixture.js';
import { VERIFY_FILES } from './targets/verify.fuzz.js';

const T0 = Date.UTC(2026, 10, 24, 9);
const DRONE = '02:00:00:00:00:0d';
const CTRL = '02:00:00:00:00:0c';

function put(dir: string, name: string, data: Buffer | string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name), data);
}

function tlogSample(file: string): void {
  const w = new TlogWriter(file);
  const veh = new PacketEncoder(1, 1);
  const gcs = new PacketEncoder(255, 190);
  gcs.version = 1;
  for (let i = 0; i < 12; i++) {
    const t = T0 * 1000 + i * 10_000;
    if (i % 4 === 0) w.write(gcs.encode(message(0, { type: 6, autopilot: 8, baseMode: 0, customMode: 0, systemStatus: 4, mavlinkVersion: 3 })), t);
    else if (i % 2 === 0) w.write(veh.encode(message(30, { timeBootMs: i, roll: 0.1, pitch: -0.1, yaw: 1, rollspeed: 0, pitchspeed: 0, yawspeed: 0 })), t);
    else w.write(veh.encode(message(253, { severity: 6, text: `EKF3 IMU0 ${i}`, id: 0, chunkSeq: 0 })), t);
  }
  w.close();
}

/** Writes every generated seed under `root`/<target>/ and returns nothing: the runner lists the directories. */
export async function writeSeeds(root: string): Promise<void> {
  fs.rmSync(root, { recursive: true, force: true });
  const fx = await evidenceFixture();

  // tlog
  fs.mkdirSync(path.join(root, 'tlog'), { recursive: true });
  tlogSample(path.join(root, 'tlog', 'sample.tlog'));
  put(path.join(root, 'tlog'), 'evidence.tlog', fx.files.get('mavlink-drone.tlog')!);

  // sweep CSV
  put(path.join(root, 'sweep-csv'), 'evidence.csv', fx.files.get('radio-sdr.csv')!);

  // verify: the selector byte, then the file's original content
  VERIFY_FILES.forEach((name, i) => put(path.join(root, 'verify'), `${i}-${name}`, Buffer.concat([Buffer.from([i]), fx.files.get(name)!])));

  // bundle: the archive as it is, and its tar stream (which the target gzips)
  const tgz = fs.readFileSync(fx.bundle);
  put(path.join(root, 'bundle'), 'bundle-gz', Buffer.concat([Buffer.from([0]), tgz]));
  put(path.join(root, 'bundle'), 'bundle-tar', Buffer.concat([Buffer.from([1]), zlib.gunzipSync(tgz)]));

  // Remote ID: a message pack and single messages
  const odid = { serial: 'SN-AIRLOCK-0001', lat: -35.363262, lon: 149.165237, altGeoM: 584, operatorLat: -35.3633, operatorLon: 149.1652 };
  const pack = encodeOdidMessagePack(odid);
  put(path.join(root, 'remote-id'), 'pack', pack);
  put(path.join(root, 'remote-id'), 'basic', encodeBasicId(odid));
  put(path.join(root, 'remote-id'), 'location', encodeLocation(odid));
  put(path.join(root, 'remote-id'), 'system', encodeSystem(odid));

  // 802.11: selector 0 is radiotap (127), 1 bare 802.11 (105)
  const rt = (dbm: number) => F.radiotapHeader({ signalDbm: dbm, channelMhz: 2437, antennas: [dbm, dbm - 2] });
  const frames: Buffer[] = [
    F.beacon({ ta: DRONE, ssid: 'RID-DRONE', elements: [F.odidElement(1, pack)] }),
    F.probeRequest({ ta: CTRL, ssid: 'lab' }),
    F.dataFrame({ ta: DRONE, ra: CTRL, etherType: 0x0800, payload: Buffer.alloc(40, 1) }),
    F.nanSdf({ ta: DRONE, counter: 9, pack }),
    F.ackFrame(DRONE),
    F.rtsFrame(CTRL, DRONE),
    F.beacon({ ta: DRONE, ssid: 'MAVIC', elements: [F.djiDroneIdElement({ serial: '08QDE1234567', lat: 47.1, lon: 8.2, homeLat: 47.0, homeLon: 8.1, altM: 500, heightM: 20 })] }),
  ];
  frames.forEach((f, i) => {
    put(path.join(root, 'dot11'), `rt-${i}`, Buffer.concat([Buffer.from([0]), rt(-40 - i), f]));
    put(path.join(root, 'dot11'), `bare-${i}`, Buffer.concat([Buffer.from([1]), f]));
  });
  let k = 0;
  await readCapture('test/fixtures/analysis/radiotap.pcap', (p) => {
    if (p.linkType === 127) put(path.join(root, 'dot11'), `fixture-${k++}`, Buffer.concat([Buffer.from([0]), p.frame()]));
  });

  // Records of the radio fixtures (test/fixtures/radio, made by its generate.ts), by link type.
  const bleSelector: Record<number, number> = { 251: 0, 256: 1, 272: 2 };
  for (const name of fs.readdirSync('test/fixtures/radio').filter((f) => f.endsWith('.pcap'))) {
    let r = 0;
    await readCapture(path.join('test/fixtures/radio', name), (p) => {
      if (p.linkType === 127 || p.linkType === 105) put(path.join(root, 'dot11'), `${name}-${r++}`, Buffer.concat([Buffer.from([p.linkType === 127 ? 0 : 1]), p.frame()]));
      const sel = bleSelector[p.linkType];
      if (sel !== undefined) put(path.join(root, 'ble'), `${name}-${r++}`, Buffer.concat([Buffer.from([sel]), p.frame()]));
    });
  }

  // BLE: selector 0 bare link layer (251), 1 with pseudo-header (256), 2 Nordic (272)
  const adverts = [
    F.bleAdvPacket({ advertiser: 'c0:00:00:00:00:42', ad: [F.odidServiceData(3, encodeBasicId(odid))] }),
    F.bleAdvPacket({ advertiser: 'd0:00:00:00:00:01', ad: [F.adStructure(0x01, Buffer.from([0x06])), F.adStructure(0x09, Buffer.from('Tag'))], pduType: 0 }),
  ];
  adverts.forEach((ll, i) => {
    put(path.join(root, 'ble'), `ll-${i}`, Buffer.concat([Buffer.from([0]), ll]));
    put(path.join(root, 'ble'), `phdr-${i}`, Buffer.concat([Buffer.from([1]), F.blePhdr(ll, { channel: 37, signalDbm: -55 })]));
    put(path.join(root, 'ble'), `nordic-${i}`, Buffer.concat([Buffer.from([2]), F.nordicBle(ll, { channel: 38, rssiDbm: -61, counter: i })]));
  });
}
