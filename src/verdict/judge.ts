/**
 * Judging: each phase's assertions over the raw data captured in that phase's window, and the
 * run's assertions over the whole run. Everything here reads only the run directory, so
 * `verify` can re-derive the verdicts offline (reanalyze.ts).
 *
 * Windows: phase i is judged over [start_i + settle, end_i + settle) — what happens within
 * `settle` after a boundary belongs to the phase that caused it, and no instant is judged by
 * no phase. The first phase starts at its start.
 *
 * A PASS needs positive proof the capture could see: no drops, no damage, every canary sent
 * in the window present in every capture it crosses, and nothing the sinkhole saw that the
 * capture missed. Otherwise INCONCLUSIVE, with the reason. A FAIL stands regardless.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Assertion, RigConfig, ScenarioConfig } from '../config/types.js';
import type { Finding, MavlinkFinding, NetworkFinding, PowerFinding, Verdict } from '../analysis/finding.js';
import { worstVerdict } from '../analysis/finding.js';
import { EgressPolicy } from '../analysis/index.js';
import type { AssertionResult, CaptureRecord, PhaseResult } from '../evidence/result.js';
import type { SentCanary } from '../orchestrator/index.js';
import { judgeRadio } from './judge-radio.js';
import { judgeMavlink } from './judge-mavlink.js';
import { WindowData, type Window } from './window-data.js';
import { networkBlindness } from './network-blindness.js';

export interface JudgeInput {
  runDir: string;
  rig: RigConfig;
  scenario: ScenarioConfig;
  /** Phase windows as they ran (epoch ms); endMs absent when a phase never ended. */
  windows: Array<{ startMs?: number; endMs?: number }>;
  /** End of captures (epoch ms): the last window never extends past it. */
  capturesEndMs: number;
  /** Phases cut short by an abort or a fault (index), and phases never started. */
  incomplete: Set<number>;
  captures: CaptureRecord[];
  canaries?: { secret: string; sent: SentCanary[]; capturesFor: Record<string, string[]> };
  floorsDbm?: Record<string, number>;
}

export interface Judgement {
  phases: PhaseResult[];
  runAssertions: AssertionResult[];
  verdict: Verdict;
  findings: Finding[];
}

const iso = (ms: number) => new Date(ms).toISOString();

function decide(findings: Finding[], blind: string[], incomplete: boolean): { verdict: Verdict; reason?: string } {
  if (findings.length > 0) return { verdict: 'FAIL' };
  if (blind.length > 0) return { verdict: 'INCONCLUSIVE', reason: blind.join('; ') };
  if (incomplete) return { verdict: 'INCONCLUSIVE', reason: 'the phase was cut short (run aborted or faulted)' };
  return { verdict: 'PASS' };
}

function deviceAddresses(rig: RigConfig, names: string[]): Set<string> {
  const out = new Set<string>();
  for (const n of names) {
    const d = rig.devices[n];
    if (d?.address) out.add(d.address);
    if (d?.address6) out.add(d.address6);
  }
  return out;
}

/** The analyzer's own policy decides names: allowed under .local, the lab's names and `allow`. */
function namePolicy(allow: string[], rig: RigConfig): EgressPolicy {
  return new EgressPolicy(rig.lab.subnets, [...allow, ...rig.lab.names]);
}

async function judgeNetworkAssertion(a: Assertion, data: WindowData, incomplete: boolean): Promise<AssertionResult> {
  const { rig } = data.input;
  const scan = await data.network();
  let findings: NetworkFinding[] = [];
  if (a.kind === 'no_egress') {
    // A name the scenario allows may be looked up inside the lab; sent outside it is still egress.
    const names = namePolicy(a.allowNames, rig);
    findings = scan.findings.filter((f) => !(f.name && f.reason !== 'egress' && names.nameAllowed(f.name)));
    if (a.devices && a.devices.length > 0) {
      const addrs = deviceAddresses(rig, a.devices);
      findings = findings.filter((f) => addrs.has(f.src) || addrs.has(f.dst));
    }
  } else if (a.kind === 'no_dns') {
    const names = namePolicy(a.allowNames, rig);
    const byName = new Map<string, NetworkFinding>();
    for (const q of scan.dnsQueries) {
      if (names.nameAllowed(q.name)) continue;
      const prev = byName.get(q.name);
      if (prev) {
        prev.count++;
        prev.lastPacket = q.packet;
        continue;
      }
      byName.set(q.name, {
        kind: 'network',
        file: q.file,
        packet: q.packet,
        lastPacket: q.packet,
        count: 1,
        time: q.time,
        src: q.src,
        dst: q.dst,
        dstPort: 53,
        protocol: 'dns',
        name: q.name,
        reason: 'dns-name',
        summary: `DNS query for ${q.name} from ${q.src} to ${q.dst}${q.answered ? '' : ' (unanswered)'}`,
      });
    }
    findings = [...byName.values()];
  } else if (a.kind === 'traffic_only_to') {
    const allowed: string[] = [];
    for (const h of a.hosts) {
      const d = rig.devices[h];
      if (d) {
        if (d.address) allowed.push(d.address);
        if (d.address6) allowed.push(d.address6);
      } else if (h === 'sinkhole') {
        if (rig.lab.sinkhole) allowed.push(rig.lab.sinkhole);
        if (rig.lab.sinkhole6) allowed.push(rig.lab.sinkhole6);
      } else allowed.push(h);
    }
    // The allowed hosts act as the "lab" of an egress policy; judging dst -> dst asks only
    // whether the destination is allowed or stays on the link (broadcast, link-local multicast).
    const policy = new EgressPolicy(allowed);
    const ok = (addr: string) => !policy.judge(addr, addr);
    // Canaries are Airlock's own packets (recognised by their HMAC mark), not the devices' traffic.
    const canaryPackets = new Set(scan.canaries.map((c) => `${c.file}|${c.packet}`));
    findings = scan.flows
      .filter((f) => !canaryPackets.has(`${f.file}|${f.packet}`))
      .filter((f) => !ok(f.dst))
      .map((f) => ({
        kind: 'network' as const,
        file: f.file,
        packet: f.packet,
        lastPacket: f.lastPacket,
        count: f.count,
        time: iso(f.firstMs),
        src: f.src,
        dst: f.dst,
        srcPort: f.srcPort,
        dstPort: f.dstPort,
        protocol: f.protocol,
        name: f.name,
        reason: 'not-allowed-host',
        summary: `${f.protocol} ${f.src} -> ${f.dst}${f.dstPort !== undefined ? ':' + f.dstPort : ''} is not to an allowed host`,
      }));
  }
  const blind = findings.length > 0 ? [] : await networkBlindness(data);
  return { kind: a.kind, ...decide(findings, blind, incomplete), findings, params: paramsOf(a) };
}

/** Reads power-<channel>.csv (time,volts,amps) rows in the window. Hand-written: three columns. */
function readPowerCsv(file: string, w: Window): Array<{ line: number; ms: number; amps: number }> {
  if (!existsSync(file)) return [];
  const rows: Array<{ line: number; ms: number; amps: number }> = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const header = (lines[0] ?? '').split(',');
  const tCol = header.indexOf('time');
  const aCol = header.indexOf('amps');
  if (tCol < 0 || aCol < 0) return [];
  for (let i = 1; i < lines.length; i++) {
    const cols = lines[i]!.split(',');
    if (cols.length <= Math.max(tCol, aCol)) continue;
    const ms = Date.parse(cols[tCol]!);
    const amps = Number(cols[aCol]);
    if (!Number.isFinite(ms) || cols[aCol] === '' || !Number.isFinite(amps)) continue;
    if (ms >= w.fromMs && ms < w.toMs) rows.push({ line: i + 1, ms, amps });
  }
  return rows;
}

/** current_below / current_above: fails on a sustained violation (>= 1 s), not on one sample. */
function judgeCurrent(a: Extract<Assertion, { kind: 'current_below' | 'current_above' }>, data: WindowData, incomplete: boolean): AssertionResult {
  const file = `power-${a.channel}.csv`;
  const rows = readPowerCsv(path.join(data.input.runDir, file), data.window);
  const params = paramsOf(a);
  const rec = data.input.captures.find((c) => c.kind === 'power');
  if (rows.length < 3) {
    return { kind: a.kind, verdict: 'INCONCLUSIVE', findings: [], reason: `too few current readings in ${file} for this phase (${rows.length})`, params };
  }
  const bad = (amps: number) => (a.kind === 'current_below' ? amps >= a.amps : amps <= a.amps);
  let runStart = -1;
  let peak = 0;
  const findings: PowerFinding[] = [];
  for (let i = 0; i <= rows.length; i++) {
    const r = rows[i];
    if (r && bad(r.amps)) {
      if (runStart < 0) {
        runStart = i;
        peak = r.amps;
      }
      peak = a.kind === 'current_below' ? Math.max(peak, r.amps) : Math.min(peak, r.amps);
      continue;
    }
    if (runStart >= 0) {
      const first = rows[runStart]!;
      const last = rows[i - 1]!;
      if (last.ms - first.ms >= 1000 && findings.length === 0) {
        findings.push({
          kind: 'power',
          file,
          line: first.line,
          time: iso(first.ms),
          channel: a.channel,
          amps: peak,
          limitAmps: a.amps,
          summary: `${a.channel} drew ${(peak * 1000).toFixed(1)} mA from ${iso(first.ms)} to ${iso(last.ms)} (${a.kind === 'current_below' ? 'limit' : 'at least'} ${(a.amps * 1000).toFixed(1)} mA)`,
        });
      }
      runStart = -1;
    }
  }
  const blind = rec?.lossy ? [`power record is lossy: ${rec.reason ?? ''}`] : [];
  return { kind: a.kind, ...decide(findings, blind, incomplete), findings, params };
}

function paramsOf(a: Assertion): Record<string, unknown> {
  const { kind: _k, pos: _p, ...rest } = a;
  return rest;
}

async function judgeAssertion(a: Assertion, data: WindowData, incomplete: boolean): Promise<AssertionResult> {
  try {
    switch (a.kind) {
      case 'no_egress':
      case 'no_dns':
      case 'traffic_only_to':
        return await judgeNetworkAssertion(a, data, incomplete);
      case 'current_below':
      case 'current_above':
        return judgeCurrent(a, data, incomplete);
      case 'no_mavlink': {
        const r = await judgeMavlink(a, data.input, data.window);
        return { kind: a.kind, ...decide(r.findings as MavlinkFinding[], r.blind, incomplete), findings: r.findings, params: paramsOf(a) };
      }
      case 'no_radio':
      case 'radio_only':
      case 'no_remote_id':
      case 'no_probe_requests': {
        const r = await judgeRadio(a, data.input, data.window);
        return { kind: a.kind, ...decide(r.findings, r.blind, incomplete), findings: r.findings, params: paramsOf(a) };
      }
    }
  } catch (error) {
    // An analysis that cannot run decides nothing: never PASS.
    return { kind: a.kind, verdict: 'INCONCLUSIVE', findings: [], reason: `analysis failed: ${(error as Error).message}`, params: paramsOf(a) };
  }
}

export function phaseWindows(input: JudgeInput): Array<Window | undefined> {
  const settle = input.scenario.settleMs;
  return input.windows.map((w, i) => {
    if (w.startMs === undefined) return undefined;
    const from = i === 0 ? w.startMs : w.startMs + settle;
    const end = w.endMs ?? input.capturesEndMs;
    const to = Math.min(end + settle, input.capturesEndMs);
    return { fromMs: from, toMs: Math.max(from, to) };
  });
}

export async function judgeRun(input: JudgeInput): Promise<Judgement> {
  const windows = phaseWindows(input);
  const phases: PhaseResult[] = [];
  for (let i = 0; i < input.scenario.phases.length; i++) {
    const phase = input.scenario.phases[i]!;
    const w = windows[i];
    const incomplete = input.incomplete.has(i);
    if (!w) {
      phases.push({
        name: phase.name,
        verdict: phase.assertions.length ? 'INCONCLUSIVE' : 'PASS',
        incomplete: true,
        assertions: phase.assertions.map((a) => ({
          kind: a.kind,
          verdict: 'INCONCLUSIVE' as const,
          findings: [],
          reason: 'phase not run (the run stopped before it)',
          params: paramsOf(a),
        })),
      });
      continue;
    }
    const data = new WindowData(input, w);
    const assertions: AssertionResult[] = [];
    for (const a of phase.assertions) assertions.push(await judgeAssertion(a, data, incomplete));
    const verdict = worstVerdict(assertions.map((a) => a.verdict));
    phases.push({
      name: phase.name,
      verdict: incomplete && verdict === 'PASS' ? 'INCONCLUSIVE' : verdict,
      startedAt: iso(input.windows[i]!.startMs!),
      endedAt: input.windows[i]!.endMs !== undefined ? iso(input.windows[i]!.endMs!) : undefined,
      startMs: input.windows[i]!.startMs,
      endMs: input.windows[i]!.endMs,
      incomplete,
      assertions,
    });
  }

  const started = windows.filter((w): w is Window => !!w);
  const runAssertions: AssertionResult[] = [];
  if (started.length > 0) {
    const whole = new WindowData(input, { fromMs: started[0]!.fromMs, toMs: input.capturesEndMs });
    const anyIncomplete = input.incomplete.size > 0;
    for (const a of input.scenario.runAssertions) runAssertions.push(await judgeAssertion(a, whole, anyIncomplete));
  } else {
    for (const a of input.scenario.runAssertions)
      runAssertions.push({ kind: a.kind, verdict: 'INCONCLUSIVE', findings: [], reason: 'no phase ran', params: paramsOf(a) });
  }

  const all = [...phases.map((p) => p.verdict), ...runAssertions.map((a) => a.verdict)];
  let verdict = worstVerdict(all);
  if (verdict === 'PASS' && input.incomplete.size > 0) verdict = 'INCONCLUSIVE';
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const a of [...phases.flatMap((p) => p.assertions), ...runAssertions]) {
    for (const f of a.findings) {
      const key = JSON.stringify([f.kind, f.file, 'packet' in f ? f.packet : undefined, 'line' in f ? f.line : undefined, f.summary]);
      if (!seen.has(key)) {
        seen.add(key);
        findings.push(f);
      }
    }
  }
  return { phases, runAssertions, verdict, findings };
}
