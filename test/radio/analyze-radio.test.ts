/**
 * `airlock analyze` on radio captures (Wi-Fi monitor, BLE sniffers) and phone-side captures
 * (Apple PKTAP, PCAPdroid), alone and mixed with network captures. Fixtures come from
 * test/fixtures/radio/generate.ts (the project's own frame builders, from the published
 * layouts); packet numbers and frame types are checked against tshark with literal filters,
 * decoded fields against the ASTM F3411 byte layout read here by offset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyzeCommand } from '../../src/cli/commands/analyze.js';
import { memoryIO } from '../../src/cli/io.js';
import { decodeBleRecord } from '../../src/analysis/radio/ble.js';
import { decodeOdid } from '../../src/analysis/radio/odid.js';
import { pcapFile } from '../../src/sim/radio/pcap-writer.js';
import * as F from '../../src/sim/radio/frames.js';
import { BLE_DRONE, BLE_TAG, CTRL, DJI, DRONE, PHONE, RID, radioFixtures, fullPack } from '../fixtures/radio/generate.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const fx = (name: string) => path.join(here, '..', 'fixtures', 'radio', name);
const LAB = ['10.231.0.0/24'];
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'trd-analyze-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tsharkFrames(file: string, filter: string, ...opts: string[]): number[] {
  const out = execFileSync('tshark', ['-r', file, ...opts, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map(Number);
}

interface Json {
  verdict: string;
  findings: Array<Record<string, unknown> & { kind: string; fields?: Record<string, string | number> }>;
  damage: Array<{ reason: string }>;
  radio: { frames: number; undecoded: number; observations: Array<Record<string, unknown>> };
}

async function analyze(files: string[], json = true): Promise<{ code: number; out: string; doc?: Json }> {
  const io = memoryIO();
  const code = await analyzeCommand({ files, lab: LAB, json }, io);
  const out = io.stdout.join('\n');
  return { code, out, ...(json ? { doc: JSON.parse(out) as Json } : {}) };
}

/** The Remote ID fields every fixture carries, as the test reads them from the published layout. */
function expectFullRemoteId(fields: Record<string, string | number>): void {
  expect(fields).toMatchObject({
    serial: RID.serial,
    idType: 1,
    idTypeName: 'serial-number',
    uaTypeName: 'helicopter-or-multirotor',
    sessionId: RID.sessionId.toString('hex'),
    operatorId: RID.operatorId,
    selfId: RID.selfId,
    lat: RID.lat,
    lon: RID.lon,
    altGeoM: RID.altGeoM,
    altBaroM: RID.altBaroM,
    heightM: RID.heightM,
    speedMps: RID.speedMps,
    verticalSpeedMps: RID.verticalSpeedMps,
    directionDeg: RID.directionDeg,
    statusName: 'airborne',
    operatorLat: RID.operatorLat,
    operatorLon: RID.operatorLon,
    operatorAltM: RID.operatorAltM,
    operatorLocationTypeName: 'live-gnss',
    auth1Type: 'uas-id-signature',
    auth1Pages: '0,1',
    auth1Length: 40,
    auth1Data: RID.auth.toString('hex'),
  });
  expect(String(fields.messages).split(',').sort()).toEqual(['auth', 'basic-id', 'location', 'operator-id', 'self-id', 'system']);
}

describe('fixtures', () => {
  it('the committed radio fixtures are what the generator writes', () => {
    for (const [name, bytes] of Object.entries(radioFixtures())) expect(readFileSync(fx(name)), name).toEqual(bytes);
  });

  it('the message pack follows the ASTM F3411 layout (read here by byte offset)', () => {
    const p = fullPack();
    expect([p[0], p[1], p[2]]).toEqual([0xf2, 25, 8]); // pack, protocol version 2; size 25; 8 messages
    const msg = (i: number) => p.subarray(3 + i * 25, 3 + (i + 1) * 25);
    expect(msg(0)[0]! >> 4).toBe(0); // Basic ID
    expect(msg(0)[1]).toBe(0x12); // ID type 1 (serial), UA type 2
    expect(msg(0).subarray(2, 22).toString('latin1')).toBe(RID.serial);
    expect(msg(1)[1]! >> 4).toBe(4); // specific session ID
    const loc = msg(2);
    expect(loc[0]! >> 4).toBe(1);
    expect(loc[1]! >> 4).toBe(2); // airborne
    expect((loc[1]! >> 1) & 1).toBe(1); // direction >= 180: E/W bit
    expect(loc[2]).toBe(90); // 270 - 180
    expect(loc[3]).toBe(49); // 12.25 m/s / 0.25
    expect(loc.readInt8(4)).toBe(-3); // -1.5 m/s / 0.5
    expect(loc.readInt32LE(5)).toBe(473977419);
    expect(loc.readUInt16LE(15)).toBe((488.5 + 1000) * 2);
    expect(msg(3)[0]! >> 4).toBe(2); // Auth page 0
    expect([msg(3)[1], msg(3)[2], msg(3)[3]]).toEqual([0x10, 1, 40]); // type 1 page 0; last page 1; 40 bytes
    expect(msg(4)[1]).toBe(0x11); // type 1 page 1
    expect(msg(5).subarray(2, 24).toString('latin1')).toBe(RID.selfId);
    const sys = msg(6);
    expect(sys[0]! >> 4).toBe(4);
    expect(sys.readInt32LE(2)).toBe(473970001);
    expect(sys.readUInt16LE(18)).toBe((452 + 1000) * 2);
    expect(msg(7)[0]! >> 4).toBe(5);
    expect(msg(7).subarray(2, 19).toString('latin1')).toBe(RID.operatorId);
  });
});

describe('Open Drone ID special values', () => {
  it('unknown direction (361 as 181 with the E/W bit), unknown vertical speed (126) and 255 with the multiplier are left out', () => {
    const m = Buffer.alloc(25);
    m[0] = 0x12; // Location, protocol version 2
    m[1] = (2 << 4) | 0x02 | 0x01; // airborne, E/W bit, speed multiplier
    m[2] = 181;
    m[3] = 255;
    m.writeInt8(126, 4);
    m.writeInt32LE(473977419, 5);
    const d = decodeOdid(m)!;
    expect(d).toMatchObject({ messages: ['location'], status: 2, lat: 47.3977419 });
    expect(d.directionDeg).toBeUndefined();
    expect(d.speedMps).toBeUndefined();
    expect(d.verticalSpeedMps).toBeUndefined();
    // Without the multiplier, 255 is 63.75 m/s; with it, 10 is 10 * 0.75 + 63.75.
    m[1] = 2 << 4;
    expect(decodeOdid(m)!.speedMps).toBe(63.75);
    m[1] = (2 << 4) | 0x01;
    m[3] = 10;
    expect(decodeOdid(m)!.speedMps).toBe(71.25);
  });
});

describe('Remote ID over each carrier names the serial number and operator ID, at packets tshark confirms', () => {
  it('Wi-Fi beacons (radiotap with FCS), a vendor drone-ID element and a probe request', async () => {
    const file = fx('rid-wifi-beacon.pcap');
    const { code, doc } = await analyze([file]);
    expect(code).toBe(1);
    expect(doc!.verdict).toBe('FAIL');
    const [rid, dji, probe] = doc!.findings;
    const ridFrames = tsharkFrames(file, 'wlan.fc.type_subtype == 0x0008 && wlan.tag.oui == 0xfa0bbc && wlan.tag.vendor.oui.type == 13 && wlan.fcs.status == 1', '-o', 'wlan.check_checksum:TRUE');
    expect(ridFrames).toEqual([1, 2]);
    expect(rid).toMatchObject({ kind: 'radio', carrier: 'wifi-beacon', transmitter: DRONE, packet: 1, lastPacket: 2, count: 2, peakDbm: -40 });
    expectFullRemoteId(rid!.fields!);
    expect(rid!.summary).toContain(`serial ${RID.serial}`);
    expect(rid!.summary).toContain(`operator ID ${RID.operatorId}`);
    expect(tsharkFrames(file, 'wlan.tag.oui == 0x263712')).toEqual([5]);
    expect(dji).toMatchObject({ kind: 'radio', carrier: 'wifi-vendor-element', transmitter: DJI, packet: 5 });
    expect(dji!.fields).toMatchObject({ serial: '08QDE1234567', altitude: 500, height: 20 });
    expect(tsharkFrames(file, 'wlan.fc.type_subtype == 0x0004')).toEqual([3]);
    expect(probe).toMatchObject({ kind: 'radio', carrier: 'wifi-probe-request', transmitter: PHONE, packet: 3 });
    expect(probe!.fields).toMatchObject({ ssid: 'HomeNet-5G' });
    // Other transmitters are observations: the drone's data frame and the controller's beacon.
    expect(tsharkFrames(file, 'wlan.fc.type == 2')).toEqual([4]);
    expect(doc!.radio.observations.map((o) => [o.transmitter, o.firstPacket, o.kinds])).toEqual([
      [DRONE, 4, ['data']],
      [CTRL, 6, ['beacon']],
    ]);
  });

  it('Wi-Fi NAN service discovery frames', async () => {
    const file = fx('rid-wifi-nan.pcap');
    const { code, doc } = await analyze([file]);
    expect(code).toBe(1);
    expect(tsharkFrames(file, 'nan.attribute.type == 3')).toEqual([1, 3]);
    expect(doc!.findings).toHaveLength(1);
    expect(doc!.findings[0]).toMatchObject({ carrier: 'wifi-nan', transmitter: DRONE, packet: 1, lastPacket: 3, count: 2 });
    expectFullRemoteId(doc!.findings[0]!.fields!);
  });

  it('BLE 4 legacy advertising: one message per advertisement, merged per advertiser', async () => {
    const file = fx('rid-ble4-legacy.pcap');
    const { code, doc } = await analyze([file]);
    expect(code).toBe(1);
    expect(tsharkFrames(file, 'btcommon.eir_ad.entry.uuid_16 == 0xfffa && btle.advertising_header.pdu_type == 0x02')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(doc!.findings).toHaveLength(1);
    expect(doc!.findings[0]).toMatchObject({ carrier: 'ble4-legacy', transmitter: BLE_DRONE, packet: 1, lastPacket: 8, count: 8 });
    expectFullRemoteId(doc!.findings[0]!.fields!);
    expect(tsharkFrames(file, 'btle.advertising_address == d0:00:00:00:00:01')).toEqual([9]);
    expect(doc!.radio.observations).toMatchObject([{ medium: 'ble', transmitter: BLE_TAG, firstPacket: 9, name: 'Tag', kinds: ['ADV_IND'] }]);
  });

  it('BLE 5 long range (LE Coded, extended advertising chains) from the nRF Sniffer, version 3', async () => {
    const file = fx('rid-ble5-coded.pcap');
    const { code, doc, out } = await analyze([file]);
    expect(code).toBe(1);
    // Every extended advertising packet is on LE Coded; AUX_ADV_IND (aux type 0 on a secondary channel) carries AdvA.
    expect(tsharkFrames(file, 'nordic_ble.phy == 2 && btle.advertising_header.pdu_type == 0x07')).toEqual([1, 2, 3, 4, 6, 7, 8, 9]);
    expect(tsharkFrames(file, 'btle.advertising_header.pdu_type == 0x07 && nordic_ble.channel >= 37')).toEqual([1, 6]);
    expect(tsharkFrames(file, 'nordic_ble.aux_type == 0 && nordic_ble.channel < 37 && btle.advertising_address == c0:11:22:33:44:55')).toEqual([2, 7]);
    expect(tsharkFrames(file, 'nordic_ble.aux_type == 1 && nordic_ble.channel < 37')).toEqual([3, 4, 8, 9]);
    expect(doc!.findings).toHaveLength(1);
    const f = doc!.findings[0]!;
    expect(f).toMatchObject({ carrier: 'ble5-extended', transmitter: BLE_DRONE, packet: 1, lastPacket: 9, count: 8 });
    expect(f.fields).toMatchObject({ phy: 'coded', chainPackets: '1,2,3,4', pdu: 'AUX_ADV_IND' });
    expectFullRemoteId(f.fields!);
    expect(f.summary).toContain('BLE 5 (extended advertising, LE Coded, long range)');
    expect(doc!.radio.observations).toMatchObject([{ transmitter: BLE_TAG, firstPacket: 5 }]);
    expect(out).toContain('"serial":"1581F5FKD23A1234ABCD"');
  });

  it('BLE 5 long range in the RF pseudo-header link type (256): the Coding Indicator follows the access address', async () => {
    const file = fx('rid-ble5-phdr.pcap');
    const { doc } = await analyze([file]);
    expect(tsharkFrames(file, 'btle.coding_indicator == 0')).toEqual([1, 2, 3, 4]);
    expect(tsharkFrames(file, 'btle.advertising_address == c0:11:22:33:44:55')).toEqual([2]);
    expect(doc!.findings).toHaveLength(1);
    expect(doc!.findings[0]).toMatchObject({ carrier: 'ble5-extended', transmitter: BLE_DRONE, packet: 1, lastPacket: 4, count: 4, peakDbm: -80 });
    expectFullRemoteId(doc!.findings[0]!.fields!);
  });

  it('text output: a readable table with serial, operator ID and positions', async () => {
    const { code, out } = await analyze([fx('rid-ble5-coded.pcap')], false);
    expect(code).toBe(1);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^FAIL: 1 finding\(s\) \(0 network, 1 radio\) in 9 packets/);
    const header = lines.findIndex((l) => l.startsWith('FILE ') && l.includes('SERIAL / ID'));
    expect(header).toBeGreaterThan(0);
    const row = lines[header + 1]!;
    for (const v of ['1..9', 'ble5-extended', BLE_DRONE, RID.serial, RID.operatorId, '47.3977419, 8.5455938', '47.3970001, 8.5450002']) expect(row).toContain(v);
    expect(out).toContain('Other transmitters (observations, not judged):');
  });
});

describe('radio and network captures in one call', () => {
  it('findings of both kinds, each naming its file and packet', async () => {
    const eth = path.join(here, '..', 'fixtures', 'analysis', 'eth-le.pcap');
    const { code, doc } = await analyze([fx('rid-wifi-beacon.pcap'), eth, fx('rid-ble4-legacy.pcap')]);
    expect(code).toBe(1);
    const kinds = doc!.findings.map((f) => `${f.kind}:${path.basename(String(f.file))}`);
    expect(kinds).toContain('radio:rid-wifi-beacon.pcap');
    expect(kinds).toContain('radio:rid-ble4-legacy.pcap');
    expect(kinds.some((k) => k === 'network:eth-le.pcap')).toBe(true);
  });

  it('a radio capture with no broadcast and no probe request passes, its transmitters listed', async () => {
    const file = path.join(dir, 'quiet-wifi.pcap');
    const rt = F.radiotapHeader({ signalDbm: -50 });
    writeFileSync(file, pcapFile(127, [{ timeMs: RID.timeMs, data: Buffer.concat([rt, F.beacon({ ta: CTRL, ssid: 'LabAP' })]) }, { timeMs: RID.timeMs + 100, data: Buffer.concat([rt, F.dataFrame({ ta: DRONE, ra: CTRL, etherType: 0x0800, payload: Buffer.alloc(20) })]) }]));
    const { code, doc } = await analyze([file]);
    expect(code).toBe(0);
    expect(doc!.verdict).toBe('PASS');
    expect(doc!.radio.observations.map((o) => o.transmitter)).toEqual([CTRL, DRONE]);
  });
});

describe('nRF Sniffer header versions decide the layout', () => {
  const ll = F.bleAdvPacket({ advertiser: 'c0:00:00:00:00:42', ad: [F.adStructure(0x09, Buffer.from('Ver'))] });
  for (const version of [0, 1, 2, 3] as const) {
    it(`version ${version}: tshark and the decoder agree on version, channel, RSSI and advertiser`, () => {
      const rec = F.nordicBle(ll, { channel: 39, rssiDbm: -61, version });
      const file = path.join(dir, `nrf-v${version}.pcap`);
      writeFileSync(file, pcapFile(272, [{ timeMs: RID.timeMs, data: rec }]));
      const ts = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'nordic_ble.protover', '-e', 'nordic_ble.channel', '-e', 'nordic_ble.rssi', '-e', 'btle.advertising_address'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      expect(ts).toBe(`${version}\t39\t-61\tc0:00:00:00:00:42`);
      const a = decodeBleRecord(rec, 272, 1, RID.timeMs);
      expect(a).toMatchObject({ advertiser: 'c0:00:00:00:00:42', channel: 39, rssiDbm: -61, name: 'Ver' });
    });
  }

  it('a version this decoder does not know is not guessed: the verdict is INCONCLUSIVE', async () => {
    const rec = F.nordicBle(ll, { channel: 39, rssiDbm: -61, version: 3 });
    rec[3] = 9; // protocol version 9
    const file = path.join(dir, 'nrf-v9.pcap');
    writeFileSync(file, pcapFile(272, [{ timeMs: RID.timeMs, data: rec }]));
    const { code, doc } = await analyze([file]);
    expect(code).toBe(3);
    expect(doc!.verdict).toBe('INCONCLUSIVE');
    expect(doc!.damage.map((d) => d.reason).join(' ')).toContain('not decoded');
  });
});

describe('phone-side captures', () => {
  it('Apple PKTAP (149): an outside destination fails, naming the destination and the process', async () => {
    const file = fx('pktap-iphone.pcap');
    expect(tsharkFrames(file, 'pktap.cmdname == "Maps" && ip.dst == 203.0.113.50 && tcp.dstport == 443')).toEqual([2]);
    expect(tsharkFrames(file, 'pktap.cmdname == "Weather" && dns.qry.name == "api.weather.example"')).toEqual([1]);
    const { code, doc, } = await analyze([file]);
    expect(code).toBe(1);
    expect(doc!.findings.map((f) => [f.packet, f.dst, f.dstPort, f.process, f.name ?? null])).toEqual([
      [1, '8.8.8.8', 53, 'Weather (pid 231)', 'api.weather.example'],
      [2, '203.0.113.50', 443, 'Maps (pid 412)', null],
    ]);
    expect(doc!.findings[1]!.summary).toContain('process Maps (pid 412)');
    const text = await analyze([file], false);
    expect(text.out).toContain('PROCESS');
    expect(text.out).toContain('Maps (pid 412)');
  });

  it('LINKTYPE_PKTAP (258) with an Ethernet inner frame', async () => {
    const file = fx('pktap-258.pcap');
    expect(tsharkFrames(file, 'pktap.cmdname == "Telemetry" && ip.dst == 198.51.100.9')).toEqual([1]);
    const { code, doc } = await analyze([file]);
    expect(code).toBe(1);
    expect(doc!.findings).toMatchObject([{ kind: 'network', packet: 1, dst: '198.51.100.9', dstPort: 443, process: 'Telemetry (pid 88)' }]);
  });

  it('PCAPdroid trailer: the finding names the app and its uid', async () => {
    const file = fx('pcapdroid-trailer.pcap');
    expect(tsharkFrames(file, 'ip.dst == 192.0.2.77 && udp.dstport == 443')).toEqual([1]);
    const { code, doc } = await analyze([file]);
    expect(code).toBe(1);
    expect(doc!.findings).toMatchObject([{ kind: 'network', packet: 1, dst: '192.0.2.77', process: 'com.vendor.fly (uid 10123)' }]);
  });

  it('a link type that is not decoded stays INCONCLUSIVE and names its number', async () => {
    const file = path.join(dir, 'user0.pcap');
    writeFileSync(file, pcapFile(147, [{ timeMs: RID.timeMs, data: Buffer.from('opaque vendor frame') }]));
    const { code, doc } = await analyze([file]);
    expect(code).toBe(3);
    expect(doc!.damage.map((d) => d.reason).join(' ')).toContain('link type 147');
  });
});
