/**
 * End to end on the virtual rig: the drone's firmware broadcasts Remote ID over Wi-Fi and over
 * Bluetooth 5 long range while powered; the BLE sniffer capture (link type 272) shows it, so
 * `no_remote_id` fails the powered phase on both carriers, naming the serial number and the
 * operator ID, and passes the quiet phase after the clean firmware's soft power-off.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RadioFinding } from '../../src/analysis/finding.js';
import { readResult, runAirlock, runDirOf, tempOut } from '../utils/airlock.js';
import { assertion } from './leaky.js';

const SCENARIO = `scenario: remote-id-ble
description: Remote ID while powered (Wi-Fi and BLE 5 long range), silence after the soft power-off.
rig: ${path.resolve('rig/virtual.yaml')}
params:
  powered: 4s
  quiet: 4s
phases:
  - name: powered
    steps:
      - power: { channel: drone, action: on }
      - dwell: \${powered}
    assert:
      - no_remote_id: {}
  - name: power-off
    steps:
      - press: { button: drone-button, pattern: short-long }
      - dwell: 2s
  - name: quiet
    steps:
      - dwell: \${quiet}
    assert:
      - no_remote_id: {}
`;

describe('Remote ID over BLE 5 long range on the virtual rig', () => {
  it('fails no_remote_id while powered (BLE and Wi-Fi findings with serial and operator ID), passes after power-off', async () => {
    const out = tempOut();
    const file = path.join(out, 'remote-id-ble.yaml');
    writeFileSync(file, SCENARIO);
    const r = await runAirlock(['run', file, '--out', out, '--firmware', 'drone=clean']);
    expect(r.stderr, 'run output').not.toMatch(/internal error/);
    expect(r.code).toBe(1);
    const runDir = runDirOf(r);
    const result = readResult(runDir);

    const powered = assertion(result, 'powered', 'no_remote_id');
    expect(powered.verdict).toBe('FAIL');
    const findings = powered.findings as RadioFinding[];
    const ble = findings.filter((f) => f.carrier === 'ble5-extended');
    const wifi = findings.filter((f) => f.carrier === 'wifi-beacon');
    expect(ble).toHaveLength(1);
    expect(wifi).toHaveLength(1);
    for (const f of [...ble, ...wifi]) {
      expect(f.fields).toMatchObject({ serial: 'SN-AIRLOCK-0001', operatorId: 'AIRLOCK-OP-0001', operatorLat: -35.3633 });
      expect(f.summary).toContain('serial SN-AIRLOCK-0001');
      expect(f.summary).toContain('operator ID AIRLOCK-OP-0001');
    }
    const b = ble[0]!;
    expect(b.file).toBe('radio-sniffer.pcap');
    expect(b.fields).toMatchObject({ phy: 'coded' });
    // tshark agrees that the finding's first packet is an LE Coded extended advertising PDU of
    // the nRF Sniffer capture, and the chain's AUX_ADV_IND names the finding's transmitter.
    const sniffer = path.join(runDir, 'radio-sniffer.pcap');
    const codedExt = execFileSync('tshark', ['-r', sniffer, '-Y', 'nordic_ble.phy == 2 && btle.advertising_header.pdu_type == 0x07', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean)
      .map(Number);
    expect(codedExt).toContain(b.packet);
    expect(codedExt).toContain(b.lastPacket);
    const auxAdv = execFileSync('tshark', ['-r', sniffer, '-Y', `nordic_ble.aux_type == 0 && nordic_ble.channel < 37 && btle.advertising_address == ${b.transmitter}`, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean)
      .map(Number);
    expect(auxAdv.length).toBeGreaterThanOrEqual(2);
    expect(auxAdv).toContain(Number(String(b.fields!.chainPackets).split(',')[1]));

    const quiet = assertion(result, 'quiet', 'no_remote_id');
    expect(quiet.findings).toEqual([]);
    expect(quiet.verdict).toBe('PASS');
  }, 120_000);
});
