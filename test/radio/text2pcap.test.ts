/**
 * Captures made by a real tool (text2pcap) from hex written here by hand from the published
 * formats (radiotap, IEEE 802.11 beacon, ASTM F3411 Wi-Fi element; BLE LL advertising with the
 * Remote ID service data) - independent of the project's own frame writer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readWifiCapture } from '../../src/analysis/radio/dot11.js';
import { readBleCapture } from '../../src/analysis/radio/ble.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'trd-t2p-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SERIAL = 'TEXT2PCAP-SERIAL-001'; // 20 characters
const serialHex = Buffer.from(SERIAL, 'latin1').toString('hex');

/** text2pcap's input: one offset-prefixed line of hex bytes. */
function text2pcap(name: string, linkType: number, hex: string): string {
  const bytes = hex.replace(/\s+/g, '').match(/../g)!;
  const txt = path.join(dir, `${name}.txt`);
  const out = path.join(dir, `${name}.pcap`);
  writeFileSync(txt, `000000 ${bytes.join(' ')}\n`);
  execFileSync('text2pcap', ['-q', '-l', String(linkType), txt, out], { stdio: 'ignore' });
  return out;
}

// Basic ID message: header 0x02 (type 0, version 2), 0x12 (id type 1 serial, UA type 2), serial[20], 3 reserved.
const basicId = `02 12 ${serialHex} 000000`;

describe('captures written by text2pcap', () => {
  it('radiotap beacon with the ASTM F3411 element (link type 127)', async () => {
    const file = text2pcap(
      'beacon',
      127,
      [
        '00 00 0a 00 22 00 00 00', // radiotap v0, length 10, present: Flags + dBm antenna signal
        '00 c4', // flags 0, signal -60 dBm
        '80 00 00 00', // frame control: management, beacon; duration
        'ff ff ff ff ff ff 02 11 22 33 44 55 02 11 22 33 44 55 10 00', // RA, TA, BSSID, sequence
        '00 00 00 00 00 00 00 00 64 00 01 00', // timestamp, interval 100 TU, capability ESS
        '00 04 52 49 44 31', // SSID "RID1"
        'dd 21 fa 0b bc 0d 05', // vendor element, 33 bytes: OUI FA:0B:BC, type 0x0D, counter 5
        'f2 19 01', // message pack: 1 message of 25 bytes
        basicId,
      ].join(' '),
    );
    const { frames } = await readWifiCapture(file);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ name: 'beacon', ta: '02:11:22:33:44:55', ssid: 'RID1', signalDbm: -60 });
    expect(frames[0]!.remoteId).toMatchObject({ carrier: 'beacon', serial: SERIAL, idType: 1, uaType: 2, messages: ['basic-id'] });
  });

  it('BLE advertising with Remote ID service data (link type 251)', async () => {
    const file = text2pcap(
      'ble',
      251,
      [
        'd6 be 89 8e', // advertising access address
        '42 25', // ADV_NONCONN_IND, TxAdd random; length 37
        '55 44 33 22 11 c0', // AdvA c0:11:22:33:44:55, little-endian
        '1e 16 fa ff 0d 01', // AD: length 30, service data 16-bit UUID 0xFFFA, app code 0x0D, counter 1
        basicId,
        '00 00 00', // CRC (not checked here)
      ].join(' '),
    );
    const { adverts } = await readBleCapture(file);
    expect(adverts).toHaveLength(1);
    // the same capture as pcapng (editcap), decoded the same way
    const ng = path.join(dir, 'ble.pcapng');
    execFileSync('editcap', ['-F', 'pcapng', file, ng], { stdio: 'ignore' });
    const fromNg = await readBleCapture(ng);
    expect(fromNg.adverts).toEqual(adverts);
    expect(adverts[0]).toMatchObject({ advertiser: 'c0:11:22:33:44:55', pduType: 'ADV_NONCONN_IND', randomAddress: true });
    expect(adverts[0]!.remoteId).toMatchObject({ counter: 1, serial: SERIAL });
  });
});
