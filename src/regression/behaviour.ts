/**
 * The behaviour of one run, per phase, re-derived from the raw files in its run directory
 * (so runs made by older versions of Airlock compare too): network captures re-scanned within
 * each phase's window, MAVLink tlogs, power CSVs and radio sweep CSVs. Each behaviour is a set
 * of keyed items with a pointer to its evidence; compare.ts diffs two such sets.
 */
import * as fs from 'node:fs';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { scanCaptures, CANARY_PORT, type NetworkScan } from '../analysis/index.js';
// The sweep CSV reader is not (yet) part of the analysis seam's export list.
import { readSweepCsv } from '../analysis/radio/sweep-csv.js';
import { readPowerCsv } from '../analysis/index.js';
import { summarizeTlog } from '../devices/flight/index.js';
import type { RunResult } from '../evidence/result.js';
import type { LoadedRun } from './run-set.js';
import { RegressionInputError } from './errors.js';

/** One thing a run did, with where to see it. */
export interface BehaviourItem {
  key: string;
  /** One line a person reads. */
  detail: string;
  file?: string;
  packet?: number;
  line?: number;
  time?: string;
}

export interface MavlinkRate {
  link: string;
  message: string;
  count: number;
  perSecond: number;
  file: string;
}

export interface PhaseBehaviour {
  phase: string;
  windowMs: number;
  outsideDestinations: Map<string, BehaviourItem>;
  dnsNames: Map<string, BehaviourItem>;
  tlsNames: Map<string, BehaviourItem>;
  services: Map<string, BehaviourItem>;
  findings: Map<string, BehaviourItem>;
  mavlink: Map<string, MavlinkRate>;
  radioBands: Map<string, BehaviourItem & { peakDb: number; floorDb: number }>;
  /** Mean current per power channel in the phase (A). */
  current: Map<string, { meanA: number; samples: number; file: string; standby: boolean }>;
}

export interface RunBehaviour {
  scenario: string;
  dir: string;
  verdict: string;
  phases: PhaseBehaviour[];
  notes: string[];
}

export interface RigFacts {
  subnets: string[];
  names: string[];
  systemIds: Record<string, number>;
  bands: { name: string; lowHz: number; highHz: number }[];
}

/** dB above a band's floor that makes it "active". */
export const RADIO_ACTIVE_DB = 10;

function freqHz(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*([0-9.]+)\s*(hz|khz|mhz|ghz)?\s*$/i.exec(v);
  if (!m) return undefined;
  const mult = { hz: 1, khz: 1e3, mhz: 1e6, ghz: 1e9 }[(m[2] ?? 'hz').toLowerCase() as 'hz'];
  return Number(m[1]) * mult;
}

/** What compare needs from the run's copy of rig.yaml: read raw, so rigs of older versions still read. */
export function rigFacts(runDir: string): RigFacts {
  const file = path.join(runDir, 'rig.yaml');
  let raw: Record<string, unknown>;
  try {
    raw = (parseYaml(fs.readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (e) {
    throw new RegressionInputError('AIRLOCK_COMPARE_BAD_INPUT', `${file}: cannot read the run's rig copy (needed to tell the lab from outside): ${(e as Error).message}`, { cause: e });
  }
  const lab = (raw.lab ?? {}) as { subnets?: unknown; names?: unknown };
  const subnets = Array.isArray(lab.subnets) ? lab.subnets.map(String) : [];
  if (subnets.length === 0) throw new RegressionInputError('AIRLOCK_COMPARE_BAD_INPUT', `${file}: names no lab subnets`);
  const names = Array.isArray(lab.names) ? lab.names.map(String) : [];
  const systemIds: Record<string, number> = {};
  for (const [name, l] of Object.entries((raw.links ?? {}) as Record<string, { system_id?: unknown; systemId?: unknown }>)) {
    const id = Number(l?.system_id ?? l?.systemId ?? 1);
    if (Number.isFinite(id)) systemIds[name] = id;
  }
  const bands: RigFacts['bands'] = [];
  const sdr = ((raw.captures as { sdr?: unknown } | undefined)?.sdr ?? {}) as Record<string, { bands?: unknown }>;
  for (const s of Object.values(sdr)) {
    if (!Array.isArray(s?.bands)) continue;
    for (const b of s.bands as { name?: unknown; low?: unknown; high?: unknown }[]) {
      const lowHz = freqHz(b.low);
      const highHz = freqHz(b.high);
      if (lowHz !== undefined && highHz !== undefined) bands.push({ name: String(b.name ?? `${lowHz / 1e6}-${highHz / 1e6}MHz`), lowHz, highHz });
    }
  }
  return { subnets, names, systemIds, bands };
}

function labList(subnets: string[]): BlockList {
  const bl = new BlockList();
  for (const c of subnets) {
    const [net, len] = c.split('/');
    if (!net) continue;
    const type = isIPv6(net) ? 'ipv6' : 'ipv4';
    bl.addSubnet(net, Number(len ?? (type === 'ipv6' ? 128 : 32)), type);
  }
  return bl;
}

function inLab(bl: BlockList, addr: string): boolean {
  if (isIPv4(addr)) return bl.check(addr, 'ipv4');
  if (isIPv6(addr)) return bl.check(addr, 'ipv6');
  return true; // not an address: nothing to say about it
}

function windowOf(p: RunResult['phases'][number]): { fromMs: number; toMs: number } | undefined {
  const from = p.startMs ?? (p.startedAt ? Date.parse(p.startedAt) : NaN);
  const to = p.endMs ?? (p.endedAt ? Date.parse(p.endedAt) : NaN);
  if (!Number.isFinite(from) || !Number.isFinite(to) || to < from) return undefined;
  return { fromMs: from, toMs: to };
}

function listFiles(dir: string, re: RegExp): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

function emptyPhase(phase: string, windowMs: number): PhaseBehaviour {
  return {
    phase,
    windowMs,
    outsideDestinations: new Map(),
    dnsNames: new Map(),
    tlsNames: new Map(),
    services: new Map(),
    findings: new Map(),
    mavlink: new Map(),
    radioBands: new Map(),
    current: new Map(),
  };
}

function addOnce<T extends BehaviourItem>(m: Map<string, T>, item: T): void {
  if (!m.has(item.key)) m.set(item.key, item);
}

function networkInto(b: PhaseBehaviour, scan: NetworkScan, lab: BlockList, ignoreCanaryPort: boolean): void {
  const isCanary = (proto: string, port?: number): boolean => ignoreCanaryPort && proto === 'udp' && port === CANARY_PORT;
  for (const f of scan.flows) {
    if ((f.canary && f.inLab) || isCanary(f.protocol, f.dstPort)) continue;
    const svc = f.dstPort !== undefined ? `${f.protocol}/${f.dstPort}` : f.protocol;
    addOnce(b.services, { key: svc, detail: `${svc} (first ${f.src} -> ${f.dst}${f.name ? `, ${f.name}` : ''})`, file: f.file, packet: f.packet, time: new Date(f.firstMs).toISOString() });
    if (f.protocol === 'tls' && f.name) {
      addOnce(b.tlsNames, { key: f.name.toLowerCase(), detail: `TLS server name ${f.name} (${f.src} -> ${f.dst}:${f.dstPort ?? ''})`, file: f.file, packet: f.packet, time: new Date(f.firstMs).toISOString() });
    }
    for (const addr of [f.dst, f.src]) {
      if (inLab(lab, addr)) continue;
      if (f.inLab) continue; // confined (broadcast, link-local multicast): cannot leave the link
      addOnce(b.outsideDestinations, {
        key: addr,
        detail: `${addr} (${svc}${f.name ? `, ${f.name}` : ''}, ${f.count} packets)`,
        file: f.file,
        packet: f.packet,
        time: new Date(f.firstMs).toISOString(),
      });
    }
  }
  for (const q of scan.dnsQueries) {
    const name = q.name.toLowerCase().replace(/\.$/, '');
    addOnce(b.dnsNames, { key: name, detail: `DNS query for ${name} (${q.src} -> ${q.dst}${q.answered ? '' : ', unanswered'})`, file: q.file, packet: q.packet, time: q.time });
  }
  for (const f of scan.findings) {
    if (isCanary(f.protocol, f.dstPort)) continue;
    const outside = [f.dst, f.src].find((a) => !inLab(lab, a)) ?? f.dst;
    const key = `${f.reason ?? 'egress'} ${f.protocol}${f.dstPort !== undefined ? `/${f.dstPort}` : ''} ${f.reason === 'dns-name' ? '' : outside}${f.name ? ` ${f.name}` : ''}`.replace(/\s+/g, ' ').trim();
    addOnce(b.findings, { key, detail: f.summary, file: f.file, packet: f.packet, time: f.time });
  }
}

interface PowerRow {
  t: number;
  amps: number;
}

function readPowerRows(file: string): PowerRow[] {
  return (readPowerCsv(file) ?? []).flatMap((r) => (r.amps === null ? [] : [{ t: r.ms, amps: r.amps }]));
}

interface SweepBandRow {
  t: number;
  line: number;
  /** Peak dB per band index at this sweep line (NaN when the line does not cover the band). */
  peak: number[];
}

async function readSweepBands(file: string, bands: RigFacts['bands']): Promise<{ rows: SweepBandRow[]; floors: number[] }> {
  const rows: SweepBandRow[] = [];
  const all: number[][] = bands.map(() => []);
  await readSweepCsv(file, (r) => {
    const peak = bands.map(() => NaN);
    for (let i = 0; i < r.db.length; i++) {
      const v = r.db[i]!;
      if (!Number.isFinite(v)) continue;
      const centre = r.lowHz + (i + 0.5) * r.binHz;
      for (let k = 0; k < bands.length; k++) {
        const b = bands[k]!;
        if (centre >= b.lowHz && centre <= b.highHz) {
          all[k]!.push(v);
          if (!(peak[k]! >= v)) peak[k] = v;
        }
      }
    }
    rows.push({ t: r.timeMs, line: r.line, peak });
  });
  // Noise floor per band: the median bin over the whole capture (robust to a transmitter that is on part of the time).
  const floors = all.map((vals) => {
    if (vals.length === 0) return NaN;
    vals.sort((x, y) => x - y);
    return vals[Math.floor(vals.length / 2)]!;
  });
  return { rows, floors };
}

/** Bands named by the rig, else 10 MHz slices of whatever the sweep covers. */
function bandsFor(file: string, rig: RigFacts): RigFacts['bands'] {
  if (rig.bands.length) return rig.bands;
  const text = fs.readFileSync(file, 'utf8');
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of text.split('\n', 2000)) {
    const f = l.split(',');
    if (f.length < 7) continue;
    lo = Math.min(lo, Number(f[2]));
    hi = Math.max(hi, Number(f[3]));
  }
  const out: RigFacts['bands'] = [];
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return out;
  for (let f = Math.floor(lo / 1e7) * 1e7; f < hi && out.length < 1000; f += 1e7) out.push({ name: `${f / 1e6}-${f / 1e6 + 10}MHz`, lowHz: f, highHz: f + 1e7 });
  return out;
}

/** Re-derives the behaviour of every phase of a run from its raw files. */
export async function runBehaviour(run: LoadedRun): Promise<RunBehaviour> {
  const { dir, result } = run;
  const rig = rigFacts(dir);
  const lab = labList(rig.subnets);
  const notes: string[] = [];
  const secret = result.analysisInput?.canaries?.secret;
  if (!secret) notes.push(`${run.key}: no canary secret in result.json: UDP port ${CANARY_PORT} is left out of the comparison`);
  const pcaps = listFiles(dir, /^net-.*\.(pcap|pcapng)$/);
  const tlogs = listFiles(dir, /^mavlink-.*\.tlog$/);
  const powers = listFiles(dir, /^power-.*\.csv$/);
  const sweeps = listFiles(dir, /^radio-.*\.csv$/);
  const powerRows = new Map(powers.map((f) => [f, readPowerRows(f)]));
  const sweepData = new Map<string, { bands: RigFacts['bands']; rows: SweepBandRow[]; floors: number[] }>();
  for (const f of sweeps) {
    const bands = bandsFor(f, rig);
    sweepData.set(f, { bands, ...(await readSweepBands(f, bands)) });
  }
  const floorsDbm = result.preflight?.floorsDbm ?? {};
  const phases: PhaseBehaviour[] = [];
  for (const p of result.phases ?? []) {
    const w = windowOf(p);
    if (!w) {
      notes.push(`${run.key}: phase ${p.name} is NOT_RUN (it never started): nothing to compare`);
      continue;
    }
    const b = emptyPhase(p.name, w.toMs - w.fromMs);
    if (pcaps.length) {
      const scan = await scanCaptures(pcaps, {
        lab: rig.subnets,
        labNames: rig.names,
        ...(secret ? { canarySecret: secret } : {}),
        fromMs: w.fromMs,
        toMs: w.toMs,
        baseDir: dir,
      });
      networkInto(b, scan, lab, !secret);
    }
    for (const t of tlogs) {
      const link = path.basename(t).replace(/^mavlink-/, '').replace(/\.tlog$/, '');
      const systemId = rig.systemIds[link];
      const s = await summarizeTlog(t, { ...(systemId !== undefined ? { systemId } : {}), fromMs: w.fromMs, toMs: w.toMs });
      const secs = Math.max(0.001, (w.toMs - w.fromMs) / 1000);
      for (const [message, count] of Object.entries(s.messages)) {
        b.mavlink.set(`${link}:${message}`, { link, message, count, perSecond: count / secs, file: path.basename(t) });
      }
    }
    const standbyChannels = new Set(
      (p.assertions ?? []).filter((a) => a.kind === 'current_below').map((a) => String((a.params as { channel?: unknown } | undefined)?.channel ?? '')),
    );
    for (const [f, rows] of powerRows) {
      const channel = path.basename(f).replace(/^power-/, '').replace(/\.csv$/, '');
      let sum = 0;
      let n = 0;
      for (const r of rows) {
        if (r.t >= w.fromMs && r.t < w.toMs) {
          sum += r.amps;
          n++;
        }
      }
      if (n > 0) b.current.set(channel, { meanA: sum / n, samples: n, file: path.basename(f), standby: standbyChannels.has(channel) });
    }
    for (const [f, d] of sweepData) {
      const inWin = d.rows.filter((r) => r.t >= w.fromMs && r.t < w.toMs);
      d.bands.forEach((band, k) => {
        const floor = floorsDbm[band.name] ?? d.floors[k]!;
        if (!Number.isFinite(floor)) return;
        const hot = inWin.filter((r) => r.peak[k]! > floor + RADIO_ACTIVE_DB);
        // Two sweep lines above the floor (one when the window holds a single line): one spike is not a transmitter.
        if (hot.length < Math.min(2, inWin.length) || hot.length === 0) return;
        const peakDb = Math.max(...hot.map((r) => r.peak[k]!));
        addOnce(b.radioBands, {
          key: band.name,
          detail: `${band.name}: ${hot.length} sweeps above the floor (${floor.toFixed(1)} dB) + ${RADIO_ACTIVE_DB} dB, peak ${peakDb.toFixed(1)} dB`,
          file: path.basename(f),
          line: hot[0]!.line,
          time: new Date(hot[0]!.t).toISOString(),
          peakDb,
          floorDb: floor,
        });
      });
    }
    phases.push(b);
  }
  return { scenario: run.key, dir, verdict: result.verdict, phases, notes };
}
