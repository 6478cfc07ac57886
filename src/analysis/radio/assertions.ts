/**
 * Radio assertions over the raw files of a run: `no_radio` over sweep CSVs, `radio_only`,
 * `no_remote_id` and `no_probe_requests` over Wi-Fi monitor and BLE captures.
 * Each returns a verdict, findings that point into the raw file (CSV line or packet number),
 * and a reason when the data cannot decide.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RadioThreshold, RigBand } from '../../config/types.js';
import type { RadioFinding, Verdict } from '../finding.js';
import { bandPower, readSweepCsv, type SweepRow } from './sweep-csv.js';
import { readCapture } from '../index.js';
import { decodeWifiRecord, type WifiFrame } from './dot11.js';
import { BleAdvertAssembler, decodeBleRecord, isBleLinkType, type BleAdvert } from './ble.js';
import { incompleteAdvertReason, isRadioLinkType, RadioCollector, type RadioReport } from './radio-report.js';

export interface AssertionVerdict {
  verdict: Verdict;
  findings: RadioFinding[];
  reason?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const r1 = (x: number) => Math.round(x * 10) / 10;

function verdictOf(findings: RadioFinding[], reasons: string[]): AssertionVerdict {
  if (findings.length > 0) return { verdict: 'FAIL', findings, ...(reasons.length ? { reason: reasons.join('; ') } : {}) };
  if (reasons.length > 0) return { verdict: 'INCONCLUSIVE', findings, reason: reasons.join('; ') };
  return { verdict: 'PASS', findings };
}

// ---------------------------------------------------------------- no_radio

/** One pass of the sweep over a band: the highest bin of the band in that pass. */
export interface BandPass {
  timeMs: number;
  powerDbm: number;
  /** CSV line of the row that holds the pass's highest bin. */
  line: number;
}

/**
 * Groups a band's rows into passes as they stream by. A sweep tool walks a range upwards, one
 * row per chunk; a row whose start is not above the previous row's start begins a new pass.
 * Keeps only the passes (one small object per pass), never the rows.
 */
export class BandPassBuilder {
  readonly passes: BandPass[] = [];
  private cur: BandPass | undefined;
  private lastLow = -Infinity;
  constructor(readonly band: RigBand) {}

  add(row: SweepRow): void {
    const p = bandPower(row, this.band);
    if (p === undefined) return;
    if (!this.cur || row.lowHz <= this.lastLow) {
      this.cur = { timeMs: row.timeMs, powerDbm: p, line: row.line };
      this.passes.push(this.cur);
    } else if (p > this.cur.powerDbm) {
      this.cur.powerDbm = p;
      this.cur.line = row.line;
    }
    this.lastLow = row.lowHz;
  }
}

export function bandPasses(rows: Iterable<SweepRow>, band: RigBand): BandPass[] {
  const b = new BandPassBuilder(band);
  for (const row of rows) b.add(row);
  return b.passes;
}

export interface Emission {
  startMs: number;
  endMs: number;
  peakDbm: number;
  peakLine: number;
  firstLine: number;
  passes: number;
}

/**
 * Spans where the band is above the threshold. Passes above the threshold that are at most
 * `mergeGapMs` apart belong to one emission (a link that bursts every few hundred ms is one
 * sustained emission); the span runs from the first to the last pass above the threshold.
 */
export function emissions(passes: BandPass[], thresholdDbm: number, mergeGapMs: number): Emission[] {
  const out: Emission[] = [];
  let cur: Emission | undefined;
  for (const p of passes) {
    if (p.powerDbm <= thresholdDbm) continue;
    if (cur && p.timeMs - cur.endMs <= mergeGapMs) {
      cur.endMs = p.timeMs;
      cur.passes++;
      if (p.powerDbm > cur.peakDbm) {
        cur.peakDbm = p.powerDbm;
        cur.peakLine = p.line;
      }
    } else {
      cur = { startMs: p.timeMs, endMs: p.timeMs, peakDbm: p.powerDbm, peakLine: p.line, firstLine: p.line, passes: 1 };
      out.push(cur);
    }
  }
  return out;
}

/** Passes above the threshold at most this far apart are one emission (default). */
export const DEFAULT_MERGE_GAP_MS = 1000;
/** The sweeps must reach this close to both ends of the window, or the window is not covered. */
export const COVERAGE_SLACK_MS = 2000;

export async function judgeNoRadio(opts: {
  /** Sweep CSV, relative to runDir. */
  file: string;
  runDir: string;
  bands: RigBand[];
  threshold: RadioThreshold;
  floorDbm?: Record<string, number>;
  minDurationMs: number;
  fromMs: number;
  toMs: number;
  mergeGapMs?: number;
}): Promise<AssertionVerdict> {
  const full = path.join(opts.runDir, opts.file);
  if (!existsSync(full)) return { verdict: 'INCONCLUSIVE', findings: [], reason: `sweep file ${opts.file} is missing` };
  // Streamed: hours of sweeps are millions of rows; only the passes of each band are kept.
  const builders = opts.bands.map((b) => new BandPassBuilder(b));
  const info = await readSweepCsv(full, (r) => {
    if (r.timeMs < opts.fromMs || r.timeMs > opts.toMs) return;
    for (const b of builders) b.add(r);
  });
  const findings: RadioFinding[] = [];
  const reasons: string[] = [];
  if (info.bad.length > 0) reasons.push(`${opts.file}: ${info.bad.length} line(s) are not sweep output (first: line ${info.bad[0]!.line})`);
  for (const builder of builders) {
    const band = builder.band;
    let threshold: number;
    let thresholdText: string;
    if ('dbm' in opts.threshold) {
      threshold = opts.threshold.dbm;
      thresholdText = `${threshold} dBm`;
    } else {
      const floor = opts.floorDbm?.[band.name];
      if (floor === undefined) {
        reasons.push(`band ${band.name}: threshold is relative to the noise floor, and no floor was measured`);
        continue;
      }
      threshold = floor + opts.threshold.aboveFloorDb;
      thresholdText = `${r1(threshold)} dBm (floor ${r1(floor)} dBm + ${opts.threshold.aboveFloorDb} dB)`;
    }
    const passes = builder.passes;
    if (passes.length === 0) {
      reasons.push(`band ${band.name}: no sweep data in ${opts.file} between ${iso(opts.fromMs)} and ${iso(opts.toMs)}`);
      continue;
    }
    for (const e of emissions(passes, threshold, opts.mergeGapMs ?? DEFAULT_MERGE_GAP_MS)) {
      const dur = e.endMs - e.startMs;
      if (dur < opts.minDurationMs) continue;
      findings.push({
        kind: 'radio',
        file: opts.file,
        time: iso(e.startMs),
        until: iso(e.endMs),
        line: e.firstLine,
        band: band.name,
        peakDbm: r1(e.peakDbm),
        summary: `${band.name}: emission above ${thresholdText} for ${(dur / 1000).toFixed(1)} s (${e.passes} sweeps), peak ${r1(e.peakDbm)} dBm at line ${e.peakLine}`,
      });
    }
    const first = passes[0]!.timeMs;
    const last = passes[passes.length - 1]!.timeMs;
    if (first - opts.fromMs > COVERAGE_SLACK_MS || opts.toMs - last > COVERAGE_SLACK_MS) {
      reasons.push(`band ${band.name}: sweeps cover only ${iso(first)} to ${iso(last)} of the window ${iso(opts.fromMs)} to ${iso(opts.toMs)}`);
    }
  }
  return verdictOf(findings, reasons);
}

// ---------------------------------------------------------------- Wi-Fi / BLE helpers

interface Decoded {
  wifi: WifiFrame[];
  ble: BleAdvert[];
  damage?: string;
}

/** Decode a Wi-Fi or BLE capture (each record by its own link type), or say why it cannot be read. */
async function decodeFile(runDir: string, file: string): Promise<Decoded | string> {
  const full = path.join(runDir, file);
  if (!existsSync(full)) return `capture ${file} is missing`;
  const d: Decoded = { wifi: [], ble: [] };
  const asm = new BleAdvertAssembler();
  try {
    const info = await readCapture(full, (p) => {
      if (isBleLinkType(p.linkType)) {
        const a = decodeBleRecord(p.frame(), p.linkType, p.index, p.timeMs);
        if (a && a !== 'data') asm.push(a, d.ble);
      } else {
        const f = decodeWifiRecord(p.frame(), p.linkType, p.index, p.timeMs);
        if (f) d.wifi.push(f);
      }
    });
    asm.flush(d.ble);
    if (info.damage) d.damage = `capture ${file} is damaged at byte ${info.damage.offset} (${info.damage.reason})`;
  } catch (e) {
    return `capture ${file} is not readable (${(e as Error).message})`;
  }
  return d;
}

/** Run the radio collector over capture files in the window; the reasons say what could not be read. */
async function collect(opts: { files: string[]; runDir: string; fromMs: number; toMs: number }): Promise<{ report: RadioReport; reasons: string[] }> {
  const collector = new RadioCollector({ fromMs: opts.fromMs, toMs: opts.toMs });
  const reasons: string[] = [];
  for (const file of opts.files) {
    const full = path.join(opts.runDir, file);
    if (!existsSync(full)) {
      reasons.push(`capture ${file} is missing`);
      continue;
    }
    try {
      const others = new Set<number>();
      const info = await readCapture(full, (p) => {
        if (isRadioLinkType(p.linkType)) collector.add(p, file);
        else others.add(p.linkType);
      });
      collector.endFile(file);
      if (info.damage) reasons.push(`capture ${file} is damaged at byte ${info.damage.offset} (${info.damage.reason})`);
      if (others.size) reasons.push(`capture ${file} holds frames of link type ${[...others].join(', ')}, which are not radio frames`);
    } catch (e) {
      reasons.push(`capture ${file} is not readable (${(e as Error).message})`);
    }
  }
  const report = collector.report();
  if (report.undecoded > 0) reasons.push(`${report.undecoded} radio frame(s) could not be decoded (too short, or a header layout not known)`);
  for (const u of report.incompleteAdverts) reasons.push(incompleteAdvertReason(u));
  return { report, reasons };
}

const inWindow = (t: number, o: { fromMs: number; toMs: number }) => t >= o.fromMs && t <= o.toMs;

interface Group {
  first: { packet: number; timeMs: number };
  lastMs: number;
  count: number;
  peak?: number;
}

function addTo(groups: Map<string, Group>, key: string, packet: number, timeMs: number, signal?: number): Group {
  let g = groups.get(key);
  if (!g) {
    g = { first: { packet, timeMs }, lastMs: timeMs, count: 0 };
    groups.set(key, g);
  }
  g.count++;
  g.lastMs = Math.max(g.lastMs, timeMs);
  if (signal !== undefined && (g.peak === undefined || signal > g.peak)) g.peak = signal;
  return g;
}

function spanFields(g: Group): Pick<RadioFinding, 'time' | 'until' | 'packet' | 'peakDbm'> {
  return { time: iso(g.first.timeMs), until: iso(g.lastMs), packet: g.first.packet, ...(g.peak !== undefined ? { peakDbm: g.peak } : {}) };
}

// ---------------------------------------------------------------- radio_only

function allowed(addr: string, list: string[]): boolean {
  const a = addr.toLowerCase();
  return list.some((t) => {
    const x = t.toLowerCase();
    return x.endsWith('*') ? a.startsWith(x.slice(0, -1)) : a === x;
  });
}

/**
 * Every transmitter heard in the window (Wi-Fi transmitter address, BLE advertiser) must be in
 * `transmitters` (MAC addresses; `02:00:00:*` matches a prefix). Frames without a transmitter
 * address (ACK, CTS) cannot be attributed and are not judged.
 */
export async function judgeRadioOnly(opts: { file: string; runDir: string; transmitters: string[]; fromMs: number; toMs: number }): Promise<AssertionVerdict> {
  const d = await decodeFile(opts.runDir, opts.file);
  if (typeof d === 'string') return { verdict: 'INCONCLUSIVE', findings: [], reason: d };
  const groups = new Map<string, Group>();
  for (const f of d.wifi) if (f.ta && inWindow(f.timeMs, opts) && !allowed(f.ta, opts.transmitters)) addTo(groups, f.ta, f.packet, f.timeMs, f.signalDbm);
  for (const a of d.ble) if (a.advertiser && inWindow(a.timeMs, opts) && !allowed(a.advertiser, opts.transmitters)) addTo(groups, a.advertiser, a.packet, a.timeMs, a.rssiDbm);
  const findings: RadioFinding[] = [...groups].map(([ta, g]) => ({
    kind: 'radio',
    file: opts.file,
    transmitter: ta,
    ...spanFields(g),
    summary: `transmitter ${ta} is not allowed in this phase: ${g.count} frame(s) from packet ${g.first.packet}${g.peak !== undefined ? `, peak ${g.peak} dBm` : ''}`,
  }));
  return verdictOf(findings, d.damage ? [d.damage] : []);
}

// ---------------------------------------------------------------- no_remote_id

/** Remote ID (ASTM F3411 over Wi-Fi beacon/NAN, BLE 4 and BLE 5) and vendor drone-ID broadcasts in the window. */
export async function judgeNoRemoteId(opts: { files: string[]; runDir: string; fromMs: number; toMs: number }): Promise<AssertionVerdict> {
  const { report, reasons } = await collect(opts);
  return verdictOf(report.broadcasts, reasons);
}

// ---------------------------------------------------------------- no_probe_requests

/** Probe requests (a device asking for the networks it knows) in the window, by transmitter and SSID. */
export async function judgeNoProbeRequests(opts: { files: string[]; runDir: string; fromMs: number; toMs: number }): Promise<AssertionVerdict> {
  const { report, reasons } = await collect(opts);
  return verdictOf(report.probes, reasons);
}
