/**
 * The virtual rig's BLE sniffer on the air link: a Remote ID datagram to REMOTE_ID_BLE_PORT
 * becomes one BLE 5 extended advertising event on LE Coded PHY in an nRF Sniffer capture
 * (link type 272); tshark reads the frame types and our decoder reassembles the chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBleCapture } from '../../src/devices/radio/ble.js';
import { readBleCapture } from '../../src/analysis/radio/ble.js';
import { judgeNoRemoteId } from '../../src/analysis/radio/assertions.js';
import { encodeOdidMessagePack, REMOTE_ID_BLE_PORT } from '../../src/sim/radio/remote-id.js';
import { makeAirPair, sendUdp, type AirPair } from './air-pair.js';
import { loadRig } from '../../src/config/index.js';
import { configErrorOf } from '../config/helpers.js';

let air: AirPair;
let dir: string;
beforeAll(() => {
  air = makeAirPair();
  dir = mkdtempSync(path.join(tmpdir(), 'trd-vble-'));
});
afterAll(() => {
  air?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function tshark(file: string, filter: string, ...fields: string[]): string[] {
  const out = execFileSync('tshark', ['-r', file, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l.length > 0);
}

describe('virtual BLE sniffer on the air link', () => {
  it('writes one LE Coded extended advertising chain per Remote ID datagram, nothing for other traffic, and stops without traffic', async () => {
    const cap = createBleCapture({ name: 'sniffer', driver: 'virtual', command: '' }, { runDir: dir, droneNetns: air.drone });
    await cap.start();
    const quietFrom = Date.now();
    await sendUdp(air.drone, air.controllerIp, 5600, 5, 600, 20); // "video": not a BLE broadcast
    await new Promise((r) => setTimeout(r, 300));
    const quietTo = Date.now();
    const pack = encodeOdidMessagePack({ serial: 'VIRT-BLE-0001', lat: 46.5, lon: 6.6, altGeoM: 400, operatorLat: 46.49, operatorLon: 6.59, operatorId: 'OP-VIRT-7' });
    await sendUdp(air.drone, air.controllerIp, REMOTE_ID_BLE_PORT, 3, pack.length, 100, pack.toString('hex'));
    await new Promise((r) => setTimeout(r, 400));
    const t = Date.now();
    const res = await cap.stop();
    expect(Date.now() - t).toBeLessThan(2500);
    expect(res).toMatchObject({ files: ['radio-sniffer.pcap'], lossy: false });
    const file = path.join(dir, 'radio-sniffer.pcap');

    // 3 events of ADV_EXT_IND + AUX_ADV_IND + AUX_CHAIN_IND (the pack with 4 messages is 103 bytes: 2 packets of AdvData)
    // a static random address: the drone's MAC with the two top bits set
    const adv = `${(parseInt(air.droneMac.slice(0, 2), 16) | 0xc0).toString(16)}${air.droneMac.slice(2)}`;
    expect(tshark(file, 'nordic_ble.protover == 3 && nordic_ble.phy == 2 && btle.advertising_header.pdu_type == 0x07', 'frame.number')).toHaveLength(res.stats.records);
    expect(tshark(file, 'btle.advertising_header.pdu_type == 0x07 && nordic_ble.channel >= 37', 'frame.number')).toEqual(['1', '4', '7']);
    expect(tshark(file, 'nordic_ble.aux_type == 0 && nordic_ble.channel < 37', 'frame.number', 'btle.advertising_address')).toEqual([`2\t${adv}`, `5\t${adv}`, `8\t${adv}`]);
    expect(tshark(file, 'nordic_ble.aux_type == 1 && nordic_ble.channel < 37', 'frame.number')).toEqual(['3', '6', '9']);

    const { adverts } = await readBleCapture(file);
    expect(adverts.filter((a) => a.timeMs >= quietFrom && a.timeMs <= quietTo)).toEqual([]);
    expect(adverts.map((a) => [a.packets, a.advertiser, a.phy, a.remoteId?.counter])).toEqual([
      [[1, 2, 3], adv, 'coded', 0],
      [[4, 5, 6], adv, 'coded', 1],
      [[7, 8, 9], adv, 'coded', 2],
    ]);
    expect(adverts[0]!.remoteId).toMatchObject({ serial: 'VIRT-BLE-0001', operatorId: 'OP-VIRT-7', altGeoM: 400 });

    const v = await judgeNoRemoteId({ files: ['radio-sniffer.pcap'], runDir: dir, fromMs: quietTo, toMs: Date.now() });
    expect(v.verdict).toBe('FAIL');
    expect(v.findings).toMatchObject([{ carrier: 'ble5-extended', transmitter: adv, packet: 1, lastPacket: 9, count: 9 }]);
    expect(v.findings[0]!.summary).toContain('serial VIRT-BLE-0001');
    expect(v.findings[0]!.summary).toContain('operator ID OP-VIRT-7');
    const quiet = await judgeNoRemoteId({ files: ['radio-sniffer.pcap'], runDir: dir, fromMs: quietFrom, toMs: quietTo });
    expect(quiet).toEqual({ verdict: 'PASS', findings: [] });
  });
});

describe('captures.ble in the rig file', () => {
  const withBle = (ble: string) => {
    const text = readFileSync('rig/virtual.yaml', 'utf8').replace(/  ble:\n    sniffer: \{ driver: virtual \}\n/, `  ble:\n    sniffer: ${ble}\n`);
    const f = path.join(dir, `rig-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(f, text);
    return f;
  };
  it('the shipped virtual rig has the virtual sniffer; a command is the other kind', () => {
    expect(loadRig('rig/virtual.yaml').captures.ble).toEqual({ sniffer: { name: 'sniffer', driver: 'virtual', command: '' } });
    expect(loadRig(withBle('{ command: "nrf-bridge --pcap" }')).captures.ble.sniffer).toEqual({ name: 'sniffer', driver: 'command', command: 'nrf-bridge --pcap' });
  });
  it('neither or both of command and driver, or an unknown driver, is a schema error naming the line', () => {
    for (const bad of ['{ }', '{ driver: virtual, command: "x" }', '{ driver: nrf }']) {
      const e = configErrorOf(() => loadRig(withBle(bad)));
      expect(e.code, bad).toBe('AIRLOCK_CONFIG_INVALID');
      expect(e.lines.join('\n'), bad).toMatch(/captures\.ble\.sniffer|ble/);
    }
  });
});
