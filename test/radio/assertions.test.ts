import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { judgeNoProbeRequests, judgeNoRadio, judgeNoRemoteId, judgeRadioOnly } from '../../src/analysis/radio/assertions.js';
import { waterfallData, writeRadioWaterfalls, writeWaterfall } from '../../src/analysis/radio/waterfall.js';
import { pcapFile } from '../../src/sim/radio/pcap-writer.js';
import * as F from '../../src/sim/radio/frames.js';
import { encodeOdidMessagePack } from '../../src/sim/radio/remote-id.js';

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
const band = { name: 'wifi24', lowHz: 2_400_000_000, highHz: 2_410_000_000 };
let dir: string;

/** hackrf_sweep time field, written here independently of the simulator's formatter. */
function hackrfTime(ms: number): string {
  const d = new Date(ms).toISOString(); // 2026-11-24T09:00:00.250Z
  return `${d.slice(0, 10)}, ${d.slice(11, 19)}.${d.slice(20, 23)}000`;
}

/**
 * 20 s of sweeps, one pass every 250 ms, two hackrf lines (5 MHz, five 1 MHz bins) per pass.
 * Floor -95.xx; a sustained emission (-50 dBm in the second line's middle bin) from 5.00 s to
 * 9.00 s; one short burst (-48 dBm) in the single pass at 14.00 s.
 */
function makeCsv(): { text: string; expect: { line: number; timeMs: number; values: number[] }[] } {
  const lines: string[] = [];
  const rows: { line: number; timeMs: number; values: number[] }[] = [];
  for (let i = 0; i < 80; i++) {
    const t = T0 + i * 250;
    for (let half = 0; half < 2; half++) {
      const lo = 2_400_000_000 + half * 5_000_000;
      const vals = [0, 1, 2, 3, 4].map((b) => -95 + ((i + b + half) % 3) * 0.25);
      const s = (t - T0) / 1000;
      if (half === 1 && s >= 5 && s <= 9) vals[2] = -50 - (s === 7 ? 2 : 0) + (s === 8 ? 3 : 0); // peak -47 at 8 s
      if (half === 0 && s === 14) vals[1] = -48;
      lines.push(`${hackrfTime(t)}, ${lo}, ${lo + 5_000_000}, 1000000.00, 20, ${vals.map((v) => v.toFixed(2)).join(', ')}`);
      rows.push({ line: lines.length, timeMs: t, values: vals });
    }
  }
  return { text: lines.join('\n') + '\n', expect: rows };
}

let csv: ReturnType<typeof makeCsv>;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'trd-assert-'));
  csv = makeCsv();
  writeFileSync(path.join(dir, 'radio-sdr1.csv'), csv.text);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = () => ({ file: 'radio-sdr1.csv', runDir: dir, bands: [band], floorDbm: { wifi24: -95 }, minDurationMs: 1000 });

describe('no_radio', () => {
  it('a sustained emission fails, with band, span, peak and CSV line', async () => {
    const v = await judgeNoRadio({ ...base(), threshold: { aboveFloorDb: 10 }, fromMs: T0, toMs: T0 + 19_750 });
    expect(v.verdict).toBe('FAIL');
    expect(v.findings).toHaveLength(1);
    const f = v.findings[0]!;
    expect(f).toMatchObject({ kind: 'radio', file: 'radio-sdr1.csv', band: 'wifi24', peakDbm: -47 });
    expect(f.time).toBe(new Date(T0 + 5000).toISOString());
    expect(f.until).toBe(new Date(T0 + 9000).toISOString());
    // pass 20 (5.00 s) starts at line 41; the emission is in its second line, 42
    expect(f.line).toBe(42);
    expect(f.summary).toContain('peak -47 dBm at line 66');
    expect(readFileSync(path.join(dir, 'radio-sdr1.csv'), 'utf8').split('\n')[65]).toContain(', -47.00,');
  });

  it('a single short burst does not fail', async () => {
    const v = await judgeNoRadio({ ...base(), threshold: { aboveFloorDb: 10 }, fromMs: T0 + 10_000, toMs: T0 + 19_750 });
    expect(v).toEqual({ verdict: 'PASS', findings: [] });
    // ... but it is an emission: with no minimum duration it fails
    const strict = await judgeNoRadio({ ...base(), minDurationMs: 0, threshold: { aboveFloorDb: 10 }, fromMs: T0 + 10_000, toMs: T0 + 19_750 });
    expect(strict.verdict).toBe('FAIL');
    expect(strict.findings[0]).toMatchObject({ line: 113, peakDbm: -48, time: new Date(T0 + 14_000).toISOString() });
  });

  it('absolute thresholds: above -49 dBm only the 8 s peak and the burst exceed, both too short', async () => {
    const v = await judgeNoRadio({ ...base(), threshold: { dbm: -49 }, fromMs: T0, toMs: T0 + 19_750 });
    expect(v.verdict).toBe('PASS');
    const w = await judgeNoRadio({ ...base(), threshold: { dbm: -60 }, fromMs: T0, toMs: T0 + 19_750 });
    expect(w.verdict).toBe('FAIL');
  });

  it('no sweep data in the window is INCONCLUSIVE with a reason', async () => {
    const v = await judgeNoRadio({ ...base(), threshold: { aboveFloorDb: 10 }, fromMs: T0 + 60_000, toMs: T0 + 70_000 });
    expect(v.verdict).toBe('INCONCLUSIVE');
    expect(v.reason).toMatch(/band wifi24: no sweep data/);
    const nofloor = await judgeNoRadio({ ...base(), floorDbm: {}, threshold: { aboveFloorDb: 10 }, fromMs: T0, toMs: T0 + 19_750 });
    expect(nofloor.verdict).toBe('INCONCLUSIVE');
    expect(nofloor.reason).toMatch(/no floor was measured/);
    const missing = await judgeNoRadio({ ...base(), file: 'radio-none.csv', threshold: { dbm: -60 }, fromMs: T0, toMs: T0 + 1 });
    expect(missing.verdict).toBe('INCONCLUSIVE');
    // a window the sweeps only partly cover
    const partial = await judgeNoRadio({ ...base(), threshold: { aboveFloorDb: 10 }, fromMs: T0 + 15_000, toMs: T0 + 40_000 });
    expect(partial.verdict).toBe('INCONCLUSIVE');
    expect(partial.reason).toMatch(/sweeps cover only/);
  });
});

describe('waterfall', () => {
  it('plots exactly the CSV values, one row per pass, bins across', async () => {
    const data = await waterfallData({ file: 'radio-sdr1.csv', runDir: dir, bands: [band] });
    expect(data).toHaveLength(1);
    const b = data[0]!;
    expect(b.freqsHz).toEqual([2400.5, 2401.5, 2402.5, 2403.5, 2404.5, 2405.5, 2406.5, 2407.5, 2408.5, 2409.5].map((m) => m * 1e6));
    expect(b.rows).toHaveLength(80);
    // Compare with the CSV read here by splitting its lines.
    const lines = readFileSync(path.join(dir, 'radio-sdr1.csv'), 'utf8').trim().split('\n');
    b.rows.forEach((row, i) => {
      const a = lines[i * 2]!.split(', ').slice(6).map(Number);
      const c = lines[i * 2 + 1]!.split(', ').slice(6).map(Number);
      expect(row.dbm).toEqual([...a, ...c]);
      expect(row.line).toBe(i * 2 + 1);
    });
  });

  it('merges passes (highest value per bin) to keep at most 2 x maxRows rows', async () => {
    const [b] = await waterfallData({ file: 'radio-sdr1.csv', runDir: dir, bands: [band], maxRows: 10 });
    expect(b!.rows.length).toBeLessThanOrEqual(20);
    expect(b!.rowsPerPixelRow).toBeGreaterThan(1);
    const lines = readFileSync(path.join(dir, 'radio-sdr1.csv'), 'utf8').trim().split('\n');
    const passes = Array.from({ length: lines.length / 2 }, (_, i) => ({
      timeMs: Date.parse(lines[i * 2]!.slice(0, 10) + 'T' + lines[i * 2]!.slice(12, 27) + 'Z'),
      values: [...lines[i * 2]!.split(', ').slice(6), ...lines[i * 2 + 1]!.split(', ').slice(6)].map(Number),
    }));
    b!.rows.forEach((row, i) => {
      const end = b!.rows[i + 1]?.timeMs ?? Infinity;
      const group = passes.filter((p) => p.timeMs >= row.timeMs && p.timeMs < end);
      expect(group.length).toBeGreaterThan(0);
      expect(row.dbm).toEqual(group[0]!.values.map((_, j) => Math.max(...group.map((p) => p.values[j]!))));
    });
    // the short burst at 14 s is still in the picture
    expect(Math.max(...b!.rows.flatMap((r) => r.dbm as number[]))).toBe(-47);
    expect(b!.rows.some((r) => r.dbm.includes(-48))).toBe(true);
  });

  it('writes waterfall-<name>.svg with the phase boundaries marked', async () => {
    const out = await writeWaterfall({
      file: 'radio-sdr1.csv',
      runDir: dir,
      name: 'phases',
      bands: [band],
      phases: [
        { name: 'powered', startMs: T0, endMs: T0 + 10_000 },
        { name: 'quiet', startMs: T0 + 10_000, endMs: T0 + 20_000 },
      ],
    });
    expect(out).toBe('waterfall-phases.svg');
    const svg = readFileSync(path.join(dir, out), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('data-phase="powered"');
    expect(svg).toContain('data-phase="quiet"');
    // The emission is the brightest colour of the scale (yellow end), the floor the darkest.
    expect(svg).toContain('fill="rgb(253,231,37)"');
    expect(svg).toContain('fill="rgb(68,1,84)"');
  });
});

describe('waterfalls after a run', () => {
  it('writes one waterfall per SDR capture record, leaving out phases that never started', async () => {
    const files = await writeRadioWaterfalls({
      runDir: dir,
      sdrs: { sdr1: { bands: [band] } },
      captures: [
        { name: 'sdr1', kind: 'radio', files: ['radio-sdr1.csv'] },
        { name: 'wifi', kind: 'wifi', files: ['radio-wifi.pcap'] },
        { name: 'other', kind: 'radio', files: [] },
      ],
      phases: [{ name: 'boot', startMs: T0, endMs: T0 + 5000 }, { name: 'never' }],
    });
    expect(files).toEqual(['waterfall-sdr1.svg']);
    const svg = readFileSync(path.join(dir, 'waterfall-sdr1.svg'), 'utf8');
    expect(svg).toContain('data-phase="boot"');
    expect(svg).not.toContain('data-phase="never"');
  });
});

describe('Wi-Fi / BLE assertions', () => {
  const DRONE = '02:00:00:00:00:01';
  const PHONE = '02:00:00:00:00:02';
  const CTRL = '02:00:00:00:00:03';
  beforeAll(() => {
    const pack = encodeOdidMessagePack({ serial: 'SN-0001', lat: 47.5, lon: 8.5, altGeoM: 420, operatorLat: 47.49, operatorLon: 8.49, timeMs: T0 });
    const rt = (s: number) => F.radiotapHeader({ signalDbm: s });
    const frames = [
      // 0 s .. 1 s: data between drone and controller; 2 s and 2.2 s: Remote ID beacons; 3 s: probe requests from the phone
      { t: 0, d: F.dataFrame({ ta: DRONE, ra: CTRL, etherType: 0x0800, payload: Buffer.alloc(20) }), s: -40 },
      { t: 1000, d: F.dataFrame({ ta: CTRL, ra: DRONE, etherType: 0x0800, payload: Buffer.alloc(20) }), s: -45 },
      { t: 2000, d: F.beacon({ ta: DRONE, ssid: 'RID-1', elements: [F.odidElement(1, pack)] }), s: -41 },
      { t: 2200, d: F.beacon({ ta: DRONE, ssid: 'RID-1', elements: [F.odidElement(2, pack)] }), s: -39 },
      { t: 3000, d: F.probeRequest({ ta: PHONE, ssid: 'HomeNet' }), s: -60 },
      { t: 3100, d: F.probeRequest({ ta: PHONE, ssid: 'HomeNet' }), s: -58 },
      { t: 3200, d: F.probeRequest({ ta: PHONE, ssid: '' }), s: -59 },
    ];
    writeFileSync(path.join(dir, 'radio-wifi.pcap'), pcapFile(127, frames.map((f) => ({ timeMs: T0 + f.t, data: Buffer.concat([rt(f.s), f.d]) }))));
    const basic = pack.subarray(3, 28);
    writeFileSync(path.join(dir, 'radio-ble.pcap'), pcapFile(256, [{ timeMs: T0 + 2500, data: F.blePhdr(F.bleAdvPacket({ advertiser: 'c0:00:00:00:00:07', ad: [F.odidServiceData(5, basic)] }), { channel: 37, signalDbm: -66 }) }]));
  });

  it('radio_only: transmitters outside the list are findings, by transmitter', async () => {
    const ok = await judgeRadioOnly({ file: 'radio-wifi.pcap', runDir: dir, transmitters: [DRONE, CTRL], fromMs: T0, toMs: T0 + 1500 });
    expect(ok).toEqual({ verdict: 'PASS', findings: [] });
    const v = await judgeRadioOnly({ file: 'radio-wifi.pcap', runDir: dir, transmitters: [DRONE, CTRL], fromMs: T0, toMs: T0 + 5000 });
    expect(v.verdict).toBe('FAIL');
    expect(v.findings.map((f) => [f.transmitter, f.packet, f.peakDbm])).toEqual([[PHONE, 5, -58]]);
    expect(v.findings[0]!.until).toBe(new Date(T0 + 3200).toISOString());
    const prefix = await judgeRadioOnly({ file: 'radio-wifi.pcap', runDir: dir, transmitters: ['02:00:00:*'], fromMs: T0, toMs: T0 + 5000 });
    expect(prefix.verdict).toBe('PASS');
    const ble = await judgeRadioOnly({ file: 'radio-ble.pcap', runDir: dir, transmitters: [DRONE], fromMs: T0, toMs: T0 + 5000 });
    expect(ble.findings.map((f) => f.transmitter)).toEqual(['c0:00:00:00:00:07']);
  });

  it('no_remote_id: the broadcast is reported with serial, position and operator position', async () => {
    const v = await judgeNoRemoteId({ files: ['radio-wifi.pcap', 'radio-ble.pcap'], runDir: dir, fromMs: T0, toMs: T0 + 5000 });
    expect(v.verdict).toBe('FAIL');
    expect(v.findings).toHaveLength(2);
    const [wifi, ble] = v.findings;
    expect(wifi).toMatchObject({ file: 'radio-wifi.pcap', transmitter: DRONE, packet: 3, peakDbm: -39, until: new Date(T0 + 2200).toISOString() });
    expect(wifi!.fields).toMatchObject({ serial: 'SN-0001', lat: 47.5, lon: 8.5, altGeoM: 420, operatorLat: 47.49, operatorLon: 8.49 });
    expect(wifi!.summary).toContain('serial SN-0001');
    expect(ble).toMatchObject({ file: 'radio-ble.pcap', transmitter: 'c0:00:00:00:00:07', packet: 1 });
    expect(ble!.fields).toMatchObject({ serial: 'SN-0001', counter: 5 });
    const quiet = await judgeNoRemoteId({ files: ['radio-wifi.pcap', 'radio-ble.pcap'], runDir: dir, fromMs: T0 + 3000, toMs: T0 + 5000 });
    expect(quiet.verdict).toBe('PASS');
    const missing = await judgeNoRemoteId({ files: ['radio-gone.pcap'], runDir: dir, fromMs: T0, toMs: T0 + 5000 });
    expect(missing.verdict).toBe('INCONCLUSIVE');
  });

  it('no_remote_id: a BLE 5 extended advertisement whose AUX packets were not captured is INCONCLUSIVE, not PASS', async () => {
    const pack = encodeOdidMessagePack({ serial: 'SN-0002', lat: 47.5, lon: 8.5, altGeoM: 420, operatorLat: 47.49, operatorLon: 8.49, timeMs: T0 });
    const ad = F.adStructure(0x16, Buffer.concat([Buffer.from([0xfa, 0xff, 0x0d, 1]), pack]));
    const ev = F.bleExtAdvertisingEvent({ advertiser: 'c0:00:00:00:00:08', adi: { sid: 1, did: 9 }, advData: ad, phy: 'coded', maxData: 40 });
    const rec = (i: number) => ({ timeMs: T0 + 2500 + i * 5, data: F.nordicBle(ev[i]!.ll, { channel: ev[i]!.channel, rssiDbm: -70, version: 3, phy: 'coded', auxType: i <= 1 ? 0 : 1, counter: i }) });
    expect(ev.length).toBeGreaterThan(2);
    // the whole chain: the pack is decoded
    writeFileSync(path.join(dir, 'radio-ble5-all.pcap'), pcapFile(272, ev.map((_, i) => rec(i))));
    const all = await judgeNoRemoteId({ files: ['radio-ble5-all.pcap'], runDir: dir, fromMs: T0, toMs: T0 + 5000 });
    expect(all.verdict).toBe('FAIL');
    // the sniffer heard only the ADV_EXT_IND on the primary channel; then the chain without its last packet
    writeFileSync(path.join(dir, 'radio-ble5-ptr.pcap'), pcapFile(272, [rec(0)]));
    writeFileSync(path.join(dir, 'radio-ble5-cut.pcap'), pcapFile(272, [rec(0), rec(1)]));
    for (const file of ['radio-ble5-ptr.pcap', 'radio-ble5-cut.pcap']) {
      const v = await judgeNoRemoteId({ files: [file], runDir: dir, fromMs: T0, toMs: T0 + 5000 });
      expect(v.verdict).toBe('INCONCLUSIVE');
      expect(v.reason).toContain(`${file}: 1 BLE extended advertisement(s) whose AUX packets were not captured (first at packet 1)`);
    }
  });

  it('no_probe_requests: grouped by transmitter and SSID', async () => {
    const v = await judgeNoProbeRequests({ files: ['radio-wifi.pcap'], runDir: dir, fromMs: T0, toMs: T0 + 5000 });
    expect(v.verdict).toBe('FAIL');
    expect(v.findings.map((f) => [f.transmitter, f.fields?.ssid, f.fields?.count, f.packet])).toEqual([
      [PHONE, 'HomeNet', 2, 5],
      [PHONE, '', 1, 7],
    ]);
    expect(v.findings[1]!.summary).toContain('wildcard');
    const before = await judgeNoProbeRequests({ files: ['radio-wifi.pcap'], runDir: dir, fromMs: T0, toMs: T0 + 2900 });
    expect(before.verdict).toBe('PASS');
  });
});
