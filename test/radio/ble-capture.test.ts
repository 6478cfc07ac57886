import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBleCapture } from '../../src/devices/radio/ble.js';
import { readBleCapture } from '../../src/analysis/radio/ble.js';
import type { RadioFaultError } from '../../src/devices/radio/errors.js';
import { pcapFile } from '../../src/sim/radio/pcap-writer.js';
import * as F from '../../src/sim/radio/frames.js';

let dir: string;
let fixture: Buffer;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'trd-blecap-'));
  const ll = F.bleAdvPacket({ advertiser: 'c0:00:00:00:00:42', ad: [F.adStructure(0x09, Buffer.from('Sniffed'))], pduType: 0 });
  fixture = pcapFile(272, [0, 1, 2].map((i) => ({ timeMs: Date.UTC(2026, 10, 24, 9) + i * 100, data: F.nordicBle(ll, { channel: 37, rssiDbm: -50, counter: i }) })));
  writeFileSync(path.join(dir, 'sniffer.pcap'), fixture);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('BLE capture from a sniffer command writing pcap to stdout', () => {
  it('keeps the stream as radio-<name>.pcap and stops the command by signal', async () => {
    const runDir = mkdtempSync(path.join(dir, 'run-'));
    // a stand-in sniffer bridge: the capture, then it keeps running until stopped
    const cap = createBleCapture({ name: 'nrf', command: `cat ${path.join(dir, 'sniffer.pcap')}; exec sleep 60` }, { runDir });
    await cap.start();
    await new Promise((r) => setTimeout(r, 200));
    const t = Date.now();
    const res = await cap.stop();
    expect(Date.now() - t).toBeLessThan(2500);
    expect(res).toMatchObject({ files: ['radio-nrf.pcap'], lossy: false, stats: { records: 3 } });
    expect(readFileSync(path.join(runDir, 'radio-nrf.pcap'))).toEqual(fixture);
    const { adverts } = await readBleCapture(path.join(runDir, 'radio-nrf.pcap'));
    expect(adverts.map((a) => [a.advertiser, a.name, a.rssiDbm, a.channel])).toEqual([
      ['c0:00:00:00:00:42', 'Sniffed', -50, 37],
      ['c0:00:00:00:00:42', 'Sniffed', -50, 37],
      ['c0:00:00:00:00:42', 'Sniffed', -50, 37],
    ]);
  });

  it('a sniffer that exits before it is stopped is a rig fault; what it wrote is kept', async () => {
    const runDir = mkdtempSync(path.join(dir, 'run-'));
    const faults: RadioFaultError[] = [];
    const cap = createBleCapture({ name: 'nrf', command: `cat ${path.join(dir, 'sniffer.pcap')}; sleep 0.3; exit 3` }, { runDir, onFault: (e) => faults.push(e) });
    await cap.start();
    await new Promise((r) => setTimeout(r, 800));
    const res = await cap.stop();
    expect(faults.map((f) => f.code)).toEqual(['AIRLOCK_RADIO_TOOL_EXITED']);
    expect(faults[0]!.message).toContain('nrf: cat: exited with code 3');
    expect(res.lossy).toBe(true);
    expect(res.stats.records).toBe(3);
  });
});
