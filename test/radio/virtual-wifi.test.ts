import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createWifiCapture } from '../../src/devices/radio/wifi.js';
import { readWifiCapture } from '../../src/analysis/radio/dot11.js';
import { encodeOdidMessagePack, REMOTE_ID_PORT } from '../../src/sim/radio/remote-id.js';
import { makeAirPair, sendUdp, type AirPair } from './air-pair.js';

let air: AirPair;
let dir: string;
beforeAll(() => {
  air = makeAirPair();
  dir = mkdtempSync(path.join(tmpdir(), 'trd-vwifi-'));
});
afterAll(() => {
  air?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('virtual Wi-Fi monitor on the air link', () => {
  it('writes radiotap frames for what crosses the air, a Remote ID beacon per datagram, and stops without traffic', async () => {
    const cap = createWifiCapture({ name: 'wifi1', interface: 'virtual' }, { runDir: dir, droneNetns: air.drone });
    await cap.start();
    const quietFrom = Date.now();
    await new Promise((r) => setTimeout(r, 500));
    const quietTo = Date.now();
    const pack = encodeOdidMessagePack({ serial: 'VIRT-RID-0001', lat: 46.5, lon: 6.6, altGeoM: 400, operatorLat: 46.49, operatorLon: 6.59 });
    // drone -> controller: 5 "video" datagrams, then 3 Remote ID datagrams to port 4950
    await sendUdp(air.drone, air.controllerIp, 5600, 5, 600, 20);
    await sendUdp(air.drone, air.controllerIp, REMOTE_ID_PORT, 3, pack.length, 50, pack.toString('hex'));
    await new Promise((r) => setTimeout(r, 300));
    // quiet again, then stop: must not wait for a packet
    await new Promise((r) => setTimeout(r, 300));
    const t = Date.now();
    const res = await cap.stop();
    const stopMs = Date.now() - t;
    expect(stopMs).toBeLessThan(2500);
    expect(res.lossy).toBe(false);
    expect(res.files).toEqual(['radio-wifi1.pcap']);

    const file = path.join(dir, 'radio-wifi1.pcap');
    const { frames } = await readWifiCapture(file);
    expect(frames.filter((f) => f.timeMs >= quietFrom && f.timeMs <= quietTo)).toEqual([]);
    const data = frames.filter((f) => f.name === 'data' && f.ta === air.droneMac);
    expect(data.length).toBeGreaterThanOrEqual(5); // the video datagrams (plus ARP)
    const beacons = frames.filter((f) => f.name === 'beacon');
    expect(beacons).toHaveLength(3);
    for (const b of beacons) {
      expect(b.ta).toBe(air.droneMac);
      expect(b.remoteId).toMatchObject({ carrier: 'beacon', serial: 'VIRT-RID-0001', altGeoM: 400 });
      expect(b.remoteId!.operatorLat).toBeCloseTo(46.49, 6);
    }
    // the controller's replies (ARP) are frames with its own transmitter address
    expect(frames.some((f) => f.ta === air.controllerMac)).toBe(true);
    expect(res.stats.records).toBe(frames.length);

    // tshark reads the same beacons
    const out = execFileSync('tshark', ['-r', file, '-Y', 'wlan.fc.type_subtype==8 && wlan.tag.oui==0xfa0bbc', '-T', 'fields', '-e', 'wlan.ta'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(out.trim().split('\n')).toEqual([air.droneMac, air.droneMac, air.droneMac]);
  });
});
