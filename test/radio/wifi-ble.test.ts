import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pcapFile } from '../../src/sim/radio/pcap-writer.js';
import * as F from '../../src/sim/radio/frames.js';
import { encodeLocation, encodeOdidMessagePack } from '../../src/sim/radio/remote-id.js';
import { parseRadiotap, readWifiCapture } from '../../src/analysis/radio/dot11.js';
import { readBleCapture } from '../../src/analysis/radio/ble.js';
import { decodeOdid } from '../../src/analysis/radio/odid.js';
import { judgeNoRemoteId } from '../../src/analysis/radio/assertions.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'trd-wifi-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
const DRONE = '02:00:00:00:00:01';
const PHONE = '02:00:00:00:00:02';
const CTRL = '02:00:00:00:00:03';
const DJI = '60:60:1f:00:00:09';
const rid = { serial: '1581F5FKD23A1234ABCD', lat: 47.3977419, lon: 8.5455938, altGeoM: 488.5, operatorLat: 47.3970001, operatorLon: 8.5450002, timeMs: T0 };

function tshark(file: string, ...args: string[]): string[] {
  const out = execFileSync('tshark', ['-r', file, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l.length > 0);
}

describe('Open Drone ID message pack', () => {
  it('round-trips Basic ID, Location and System', () => {
    const pack = encodeOdidMessagePack(rid);
    expect(pack.length).toBe(3 + 3 * 25);
    expect(pack[0]).toBe(0xf2);
    const info = decodeOdid(pack)!;
    expect(info.messages).toEqual(['basic-id', 'location', 'system']);
    expect(info.serial).toBe('1581F5FKD23A1234ABCD');
    expect(info.idType).toBe(1);
    expect(info.lat).toBeCloseTo(47.3977419, 7);
    expect(info.lon).toBeCloseTo(8.5455938, 7);
    expect(info.altGeoM).toBe(488.5);
    expect(info.operatorLat).toBeCloseTo(47.3970001, 7);
    expect(info.operatorLon).toBeCloseTo(8.5450002, 7);
  });
  it('rejects bytes that are not ODID', () => {
    expect(decodeOdid(Buffer.from('f21903', 'hex'))).toBeUndefined();
    expect(decodeOdid(Buffer.alloc(25, 0x99))).toBeUndefined();
  });
});

describe('Remote ID that is out of the standard or cut short is still a broadcast', () => {
  it('a pack claiming more than 9 messages, or cut short by the capture, gives every whole message it holds', () => {
    const pack = encodeOdidMessagePack(rid); // basic ID, location, system
    const ten = Buffer.concat([Buffer.from([0xf2, 25, 10]), ...Array.from({ length: 10 }, (_, i) => pack.subarray(3 + (i % 3) * 25, 3 + ((i % 3) + 1) * 25))]);
    expect(decodeOdid(ten)?.serial).toBe('1581F5FKD23A1234ABCD');
    const cut = pack.subarray(0, 3 + 2 * 25 + 7); // count says 3, two whole messages captured
    expect(decodeOdid(cut)?.messages).toEqual(['basic-id', 'location']);
  });
  it('a Remote ID element or service data whose body is not decoded is a finding, not silence', async () => {
    const junk = Buffer.alloc(12, 0x99);
    const wifi = path.join(dir, 'rid-junk-wifi.pcap');
    writeFileSync(wifi, pcapFile(127, [{ timeMs: T0, data: Buffer.concat([F.radiotapHeader({ signalDbm: -40 }), F.beacon({ ta: DRONE, ssid: 'X', elements: [F.odidElement(1, junk)] })]) }]));
    const ble = path.join(dir, 'rid-junk-ble.pcap');
    writeFileSync(ble, pcapFile(256, [{ timeMs: T0, data: F.blePhdr(F.bleAdvPacket({ advertiser: 'c0:00:00:00:00:09', ad: [F.odidServiceData(3, junk)] }), { channel: 37, signalDbm: -60 }) }]));
    const v = await judgeNoRemoteId({ files: [path.basename(wifi), path.basename(ble)], runDir: dir, fromMs: T0 - 1, toMs: T0 + 1 });
    expect(v.verdict).toBe('FAIL');
    expect(v.findings.map((f) => [f.file, f.transmitter, f.packet])).toEqual([
      ['rid-junk-wifi.pcap', DRONE, 1],
      ['rid-junk-ble.pcap', 'c0:00:00:00:00:09', 1],
    ]);
    expect(v.findings[0]!.summary).toContain('contents not decoded');
  });
});

describe('radiotap Wi-Fi capture with Remote ID (our writer, cross-checked with tshark)', () => {
  let file: string;
  beforeAll(() => {
    const pack = encodeOdidMessagePack(rid);
    const rt = (s: number, antennas?: number[]) => F.radiotapHeader({ signalDbm: s, antennas, channelMhz: 2437 });
    const frames = [
      Buffer.concat([rt(-42, [-44, -46]), F.beacon({ ta: DRONE, ssid: 'RID-DRONE', elements: [F.odidElement(7, pack)] })]),
      Buffer.concat([rt(-60), F.probeRequest({ ta: PHONE, ssid: 'HomeNet-5G' })]),
      Buffer.concat([rt(-50), F.dataFrame({ ta: DRONE, ra: CTRL, etherType: 0x0800, payload: Buffer.alloc(40, 1) })]),
      Buffer.concat([rt(-51), F.nanSdf({ ta: DRONE, counter: 9, pack })]),
      Buffer.concat([rt(-52), F.ackFrame(DRONE)]),
      Buffer.concat([rt(-53), F.rtsFrame(CTRL, PHONE)]),
      Buffer.concat([rt(-70), F.beacon({ ta: DJI, ssid: 'MAVIC-AIR', elements: [F.djiDroneIdElement({ serial: '08QDE1234567', lat: 47.1, lon: 8.2, homeLat: 47.0, homeLon: 8.1, altM: 500, heightM: 20 })] })]),
    ];
    file = path.join(dir, 'radio-wifi.pcap');
    writeFileSync(file, pcapFile(127, frames.map((data, i) => ({ timeMs: T0 + i * 100, data }))));
  });

  it('tshark reads the beacons, SSIDs, transmitters and signals we wrote', () => {
    const beacons = tshark(file, '-Y', 'wlan.fc.type_subtype==8', '-T', 'fields', '-e', 'wlan.ssid', '-e', 'wlan.ta', '-e', 'radiotap.dbm_antsignal');
    // tshark 4.0 prints SSIDs as hex bytes
    expect(beacons.map((l) => l.split('\t'))).toEqual([
      [Buffer.from('RID-DRONE').toString('hex'), DRONE, '-42,-44,-46'],
      [Buffer.from('MAVIC-AIR').toString('hex'), DJI, '-70'],
    ]);
    const probes = tshark(file, '-Y', 'wlan.fc.type_subtype==4', '-T', 'fields', '-e', 'wlan.ssid', '-e', 'wlan.ta');
    expect(probes).toEqual([`${Buffer.from('HomeNet-5G').toString('hex')}\t${PHONE}`]);
    // The Remote ID vendor element: OUI FA:0B:BC (16387004), vendor type 13; its data decoded
    // here by byte offsets from the published layout (counter, pack header, Basic ID header).
    const rid = tshark(file, '-Y', 'wlan.tag.oui==0xfa0bbc && wlan.tag.vendor.oui.type==13', '-T', 'fields', '-e', 'frame.number', '-e', 'wlan.tag.vendor.data');
    expect(rid).toHaveLength(1);
    const [num, hex] = rid[0]!.split('\t');
    expect(num).toBe('1');
    const data = Buffer.from(hex!.replace(/:/g, ''), 'hex');
    // tshark's vendor data starts at the vendor type: type, counter, pack header (3), Basic ID
    // (header, id/ua type, serial[20], 3 reserved), Location (header, flags, ..., lat at +5).
    expect(data[0]).toBe(0x0d);
    expect(data[1]).toBe(7); // message counter
    expect(data[2]).toBe(0xf2); // message pack, protocol version 2
    expect(data.subarray(7, 27).toString('latin1')).toBe('1581F5FKD23A1234ABCD');
    expect(data.readInt32LE(30 + 5) / 1e7).toBeCloseTo(47.3977419, 7);
    expect(data.readInt32LE(55 + 2) / 1e7).toBeCloseTo(47.3970001, 7); // System: operator latitude
    const nan = tshark(file, '-Y', 'nan.attribute.type==3', '-T', 'fields', '-e', 'frame.number', '-e', 'wlan.ta');
    expect(nan).toEqual([`4\t${DRONE}`]);
    const dji = tshark(file, '-Y', 'wlan.tag.oui==0x263712', '-T', 'fields', '-e', 'frame.number');
    expect(dji).toEqual(['7']);
  });

  it('our decoder reads the same capture to the fields it carries', async () => {
    const cap = await readWifiCapture(file);
    expect(cap.damage).toBeUndefined();
    expect(cap.frames.map((f) => [f.packet, f.type, f.name, f.ta, f.ra, f.signalDbm])).toEqual([
      [1, 'management', 'beacon', DRONE, 'ff:ff:ff:ff:ff:ff', -42],
      [2, 'management', 'probe-request', PHONE, 'ff:ff:ff:ff:ff:ff', -60],
      [3, 'data', 'data', DRONE, CTRL, -50],
      [4, 'management', 'action', DRONE, '51:6f:9a:01:00:00', -51],
      [5, 'control', 'ack', undefined, DRONE, -52],
      [6, 'control', 'rts', PHONE, CTRL, -53],
      [7, 'management', 'beacon', DJI, 'ff:ff:ff:ff:ff:ff', -70],
    ]);
    const [b, probe, , nan, , , dji] = cap.frames;
    expect(b!.ssid).toBe('RID-DRONE');
    expect(b!.channelMhz).toBe(2437);
    expect(b!.remoteId).toMatchObject({ carrier: 'beacon', serial: '1581F5FKD23A1234ABCD', altGeoM: 488.5 });
    expect(b!.remoteId!.lat).toBeCloseTo(47.3977419, 7);
    expect(b!.remoteId!.operatorLon).toBeCloseTo(8.5450002, 7);
    expect(probe!.ssid).toBe('HomeNet-5G');
    expect(nan!.nan).toBe(true);
    expect(nan!.remoteId).toMatchObject({ carrier: 'nan', serial: '1581F5FKD23A1234ABCD' });
    expect(dji!.djiDroneId).toMatchObject({ vendorType: 0x58, subcommand: 0x10, serial: '08QDE1234567', altitude: 500, height: 20 });
    expect(dji!.djiDroneId!.lat).toBeCloseTo(47.1, 4);
    expect(dji!.djiDroneId!.homeLon).toBeCloseTo(8.1, 4);
  });

  it('a capture cut mid-record keeps the frames before the cut and reports the damage', async () => {
    const whole = readFileSync(file);
    const cut = path.join(dir, 'radio-cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 20));
    const cap = await readWifiCapture(cut);
    expect(cap.frames.map((f) => f.packet)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(cap.damage).toBeDefined();
  });

  it('walks radiotap alignment: signal after an 8-aligned TSFT and chained bitmaps', () => {
    const h = F.radiotapHeader({ signalDbm: -33, antennas: [-35, -37], channelMhz: 5180 });
    // 3 present words -> header 16 bytes, TSFT at 16 (8-aligned)
    expect(h.readUInt16LE(2)).toBe(h.length);
    expect(parseRadiotap(h)).toEqual({ length: h.length, signalDbm: -33, channelMhz: 5180, fcs: false });
    // A header whose only field is an antenna signal after a flags byte with FCS set.
    const minimal = Buffer.from([0, 0, 10, 0, 0x22, 0, 0, 0, 0x10, 0xc8]);
    expect(parseRadiotap(minimal)).toEqual({ length: 10, signalDbm: -56, fcs: true });
  });
});

describe('BLE captures in link types 251, 256, 272', () => {
  const ADV = 'c0:11:22:33:44:55';
  const loc = encodeLocation({ serial: 'unused', lat: 47.5, lon: 8.25, altGeoM: 100, operatorLat: 0, operatorLon: 0, timeMs: T0 });
  const basic = encodeOdidMessagePack(rid).subarray(3, 28);
  const frames = () => [
    F.bleAdvPacket({ advertiser: ADV, ad: [F.odidServiceData(3, basic)] }),
    F.bleAdvPacket({ advertiser: ADV, ad: [F.odidServiceData(4, loc)] }),
    F.bleAdvPacket({ advertiser: 'd0:00:00:00:00:01', ad: [F.adStructure(0x01, Buffer.from([0x06])), F.adStructure(0x09, Buffer.from('Tag'))], pduType: 0 }),
  ];
  const cases: [number, (ll: Buffer) => Buffer, boolean][] = [
    [251, (ll) => ll, false],
    [256, (ll) => F.blePhdr(ll, { channel: 37, signalDbm: -55 }), true],
    [272, (ll) => F.nordicBle(ll, { channel: 38, rssiDbm: -61 }), true],
  ];
  it('nRF Sniffer protocol versions 1 and 2 with LE Coded in the flags: the Coding Indicator is skipped (tshark agrees)', async () => {
    const pack = encodeOdidMessagePack(rid);
    const ad = F.adStructure(0x16, Buffer.concat([Buffer.from([0xfa, 0xff, 0x0d, 1]), pack]));
    const ev = F.bleExtAdvertisingEvent({ advertiser: ADV, adi: { sid: 1, did: 3 }, advData: ad, phy: 'coded', maxData: 60 });
    for (const version of [1, 2] as const) {
      const file = path.join(dir, `ble-nrf-v${version}-coded.pcap`);
      const recs = ev.map((e, i) => {
        const d = F.nordicBle(e.ll, { channel: e.channel, rssiDbm: -70, version, phy: 'coded', counter: i });
        if (version === 1) d[8] |= 2 << 4; // our writer sets the PHY bits from version 2 on
        return { timeMs: T0 + i, data: d };
      });
      writeFileSync(file, pcapFile(272, recs));
      const ts = tshark(file, '-Y', 'nordic_ble.phy == 2 && btle.advertising_header.pdu_type == 0x07', '-T', 'fields', '-e', 'frame.number', '-e', 'btle.advertising_address');
      expect(ts).toEqual(['1\t', `2\t${ADV}`, ...ev.slice(2).map((_, i) => `${i + 3}\t`)]);
      const cap = await readBleCapture(file);
      expect(cap.adverts).toHaveLength(1);
      expect(cap.adverts[0]).toMatchObject({ advertiser: ADV, phy: 'coded', packets: ev.map((_, i) => i + 1) });
      expect(cap.adverts[0]!.remoteId?.serial).toBe('1581F5FKD23A1234ABCD');
    }
  });
  for (const [lt, wrap, hasRssi] of cases) {
    it(`link type ${lt}: advertisers, AD structures and Remote ID service data (tshark agrees)`, async () => {
      const file = path.join(dir, `ble-${lt}.pcap`);
      writeFileSync(file, pcapFile(lt, frames().map((ll, i) => ({ timeMs: T0 + i * 100, data: wrap(ll) }))));
      const ts = tshark(file, '-T', 'fields', '-e', 'btle.advertising_address', '-e', 'btcommon.eir_ad.entry.uuid_16');
      expect(ts).toEqual([`${ADV}\t0xfffa`, `${ADV}\t0xfffa`, 'd0:00:00:00:00:01\t']);
      const cap = await readBleCapture(file);
      expect(cap.adverts.map((a) => [a.packet, a.advertiser, a.pduType])).toEqual([
        [1, ADV, 'ADV_NONCONN_IND'],
        [2, ADV, 'ADV_NONCONN_IND'],
        [3, 'd0:00:00:00:00:01', 'ADV_IND'],
      ]);
      expect(cap.adverts[0]!.remoteId).toMatchObject({ counter: 3, serial: '1581F5FKD23A1234ABCD', messages: ['basic-id'] });
      expect(cap.adverts[1]!.remoteId).toMatchObject({ counter: 4, messages: ['location'], altGeoM: 100 });
      expect(cap.adverts[1]!.remoteId!.lat).toBeCloseTo(47.5, 7);
      expect(cap.adverts[2]!.name).toBe('Tag');
      expect(cap.adverts[2]!.remoteId).toBeUndefined();
      if (hasRssi) expect(cap.adverts[0]!.rssiDbm).toBe(lt === 256 ? -55 : -61);
      if (lt === 272) expect(cap.adverts[0]!.channel).toBe(38);
    });
  }
});
