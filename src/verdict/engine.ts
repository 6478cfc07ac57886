/**
 * The verdict engine: the one place where captured data becomes verdicts. `run` and `verify`
 * call judgeRun (a run directory in, a Judgement out); `analyze` calls judgeCaptures. It reads
 * captures and records and writes nothing.
 *
 * How a run is judged (docs/certifier/what-a-pass-proves.md says it for certifiers):
 *
 * 1. Time coverage (coverage.ts) cuts the run into windows that together cover every captured
 *    instant: preflight, each phase, the gaps between phases, safing.
 * 2. Every packet of every network capture is routed to the one window its time falls in, and
 *    judged there by the egress scan (src/analysis/scan.ts).
 * 3. In every window the run-wide egress policy (`egress_policy`: the rig's lab subnets and
 *    names) is judged; a phase's `allow:` loosens it for that phase only, exactly as written.
 *    A phase's own assertions (rules.ts) add to it over the same window.
 * 4. A phase that never started is NOT_RUN; a phase cut short is never PASS; a run with a phase
 *    NOT_RUN or cut short is never PASS. FAIL beats INCONCLUSIVE beats PASS.
 *
 * RunJudge takes packets as they come (`file(label)` gives a capture file's packet callback),
 * so the same engine can be fed from live captures; judgeRun feeds it from the files.
 */
import path from 'node:path';
import type { RigConfig, ScenarioConfig } from '../config/types.js';
import type { Finding, Verdict } from '../analysis/finding.js';
import { worstVerdict } from '../analysis/finding.js';
import {
  CANARY_LOOKBACK_MS,
  NetworkScanner,
  fileLabel,
  readCapture,
  type CaptureInfo,
  type CapturePacket,
  type CaptureDamage,
  type EndpointCatalogue,
  type NetworkScan,
} from '../analysis/index.js';
import { incompleteAdvertReason, RadioCollector, type RadioReport } from '../analysis/radio/index.js';
import type { AssertionResult, CaptureLossEntry, CaptureRecord, PhaseResult, PhaseVerdict, WindowResult } from './result.js';
import { coverageWindows, windowIndexAt, type CoverageWindow } from './coverage.js';
import { decide, judgeAssertion, judgeEgressPolicy, paramsOf } from './rules.js';
import { WindowData } from './window-data.js';
import { captureLossEntry, captureLossOf, captureLossReason, DEFAULT_LOSS_MAX, SINKHOLE_LAG_MS } from './network-blindness.js';

export type { JudgeInput } from './input.js';
import type { JudgeInput } from './input.js';

export interface Judgement {
  phases: PhaseResult[];
  runAssertions: AssertionResult[];
  /** Every window of the run, in time order, with its egress_policy verdict. */
  coverage: WindowResult[];
  verdict: Verdict;
  findings: Finding[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The run's verdict: FAIL beats INCONCLUSIVE beats PASS; never PASS with a phase NOT_RUN or cut short. */
export function runVerdict(parts: PhaseVerdict[], anyIncomplete: boolean): Verdict {
  const judged = parts.filter((v): v is Verdict => v !== 'NOT_RUN');
  const v = worstVerdict(judged);
  if (v === 'PASS' && (anyIncomplete || judged.length < parts.length)) return 'INCONCLUSIVE';
  return v;
}

/** The network capture files of a run, absolute. */
export function networkFiles(input: Pick<JudgeInput, 'captures' | 'runDir'>): string[] {
  return input.captures.filter((c) => c.kind === 'network').flatMap((c) => c.files.map((f) => path.join(input.runDir, f)));
}

/** A run's judge, fed packet by packet; finish() gives the Judgement. */
export class RunJudge {
  readonly windows: CoverageWindow[];
  private readonly scanners: NetworkScanner[];
  /** The whole run in one scan, for the scenario's run-wide assertions (only when it has some). */
  private readonly whole: NetworkScanner | undefined;
  private hint = 0;

  constructor(readonly input: JudgeInput) {
    this.windows = coverageWindows({
      capturesStartMs: input.capturesStartMs,
      windows: input.windows,
      capturesEndMs: input.capturesEndMs,
      settleMs: input.scenario.settleMs,
      phaseNames: input.scenario.phases.map((p) => p.name),
    });
    const opts = {
      lab: input.rig.lab.subnets,
      labNames: input.rig.lab.names,
      canarySecret: input.canaries?.secret,
      catalogue: input.catalogue,
    };
    // Each window's scanner knows where its window starts, so the canaries it is also shown from
    // just before it (file() below) are only looked at, never judged.
    this.scanners = this.windows.map((w) => new NetworkScanner({ ...opts, fromMs: w.fromMs }));
    this.whole = input.scenario.runAssertions.length > 0 ? new NetworkScanner(opts) : undefined;
  }

  /** The packet callback of one capture file (`label`: as findings name it, run-directory relative). */
  file(label: string): (p: CapturePacket) => void {
    const perWindow = this.scanners.map((s) => s.file(label));
    const whole = this.whole?.file(label);
    const windows = this.windows;
    const lookback = this.input.canaries ? CANARY_LOOKBACK_MS : 0;
    return (p) => {
      const i = windowIndexAt(windows, p.timeMs, this.hint);
      this.hint = i;
      perWindow[i]!(p);
      // The last seconds before a window: its scanner learns the canaries sent there, so their
      // answers arriving inside the window are known as answers to Airlock's own packets.
      for (let k = i + 1; k < windows.length && p.timeMs >= windows[k]!.fromMs - lookback; k++) perWindow[k]!(p);
      if (whole) whole(p);
    };
  }

  /**
   * The look-back callback of one capture file: the last packets of the capture's previous part
   * (a rotated capture), routed as file() routes them, looked at only for canaries.
   */
  fileLookback(label: string): (p: CapturePacket) => void {
    const perWindow = this.scanners.map((s) => s.fileLookback(label));
    const windows = this.windows;
    const lookback = CANARY_LOOKBACK_MS;
    let hint = 0;
    return (p) => {
      const i = windowIndexAt(windows, p.timeMs, hint);
      hint = i;
      perWindow[i]!(p);
      for (let k = i + 1; k < windows.length && p.timeMs >= windows[k]!.fromMs - lookback; k++) perWindow[k]!(p);
    };
  }

  /** Ends one capture file. Its damage and drop counts make every window's evidence doubtful. */
  endFile(label: string, info: CaptureInfo): void {
    for (const s of this.scanners) s.endFile(label, info);
    this.whole?.endFile(label, info);
  }

  async finish(): Promise<Judgement> {
    const { input } = this;
    const scenario = input.scenario;
    const scans = this.scanners.map((s) => s.result());
    const coverage: WindowResult[] = [];
    const phaseResults = new Map<number, PhaseResult>();
    for (let k = 0; k < this.windows.length; k++) {
      const w = this.windows[k]!;
      // The windows within the sinkhole's lag of this one: its log may name their packets (network-blindness.ts).
      const neighbours = this.windows.flatMap((o, j) => (j !== k && o.toMs > w.fromMs - SINKHOLE_LAG_MS && o.fromMs < w.toMs + SINKHOLE_LAG_MS ? [scans[j]!] : []));
      const data = new WindowData(input, w, scans[k]!, neighbours);
      if (w.kind === 'phase') {
        const i = w.phase!;
        const phase = scenario.phases[i]!;
        const incomplete = input.incomplete.has(i);
        const assertions = [await judgeEgressPolicy(data, phase.allow, incomplete)];
        for (const a of phase.assertions) assertions.push(await judgeAssertion(a, data, incomplete));
        const verdict = worstVerdict(assertions.map((a) => a.verdict as Verdict));
        const ran = input.windows[i]!;
        phaseResults.set(i, {
          name: phase.name,
          verdict: incomplete && verdict === 'PASS' ? 'INCONCLUSIVE' : verdict,
          startedAt: iso(ran.startMs!),
          endedAt: ran.endMs !== undefined ? iso(ran.endMs) : undefined,
          startMs: ran.startMs,
          endMs: ran.endMs,
          incomplete,
          ...(phase.allow ? { allow: phase.allow } : {}),
          assertions,
          captureLoss: await captureLossOf(data),
        });
        coverage.push({ kind: w.kind, name: w.name, from: iso(w.fromMs), to: iso(w.toMs), verdict: assertions[0]!.verdict as Verdict, assertions: [assertions[0]!] });
      } else {
        const a = await judgeEgressPolicy(data, undefined, false);
        coverage.push({ kind: w.kind, name: w.name, from: iso(w.fromMs), to: iso(w.toMs), verdict: a.verdict as Verdict, assertions: [a] });
      }
    }

    const phases: PhaseResult[] = scenario.phases.map(
      (phase, i) =>
        phaseResults.get(i) ?? {
          name: phase.name,
          verdict: 'NOT_RUN',
          incomplete: true,
          ...(phase.allow ? { allow: phase.allow } : {}),
          assertions: [{ kind: 'egress_policy', params: {} }, ...phase.assertions.map((a) => ({ kind: a.kind, params: paramsOf(a) }))].map((a) => ({
            ...a,
            verdict: 'NOT_RUN' as const,
            findings: [],
            reason: 'phase not run (the run stopped before it)',
          })),
        },
    );

    const runAssertions: AssertionResult[] = [];
    const first = this.windows[0]!;
    const anyIncomplete = input.incomplete.size > 0 || phases.some((p) => p.verdict === 'NOT_RUN');
    if (this.whole && phases.some((p) => p.verdict !== 'NOT_RUN')) {
      const data = new WindowData(input, { fromMs: first.fromMs, toMs: input.capturesEndMs }, this.whole.result());
      for (const a of scenario.runAssertions) runAssertions.push(await judgeAssertion(a, data, anyIncomplete));
    } else {
      for (const a of scenario.runAssertions) runAssertions.push({ kind: a.kind, ...decide([], ['no phase ran'], false), findings: [], params: paramsOf(a) });
    }

    const verdict = runVerdict(
      [...phases.map((p) => p.verdict), ...coverage.filter((c) => c.kind !== 'phase').map((c) => c.verdict), ...runAssertions.map((a) => a.verdict)],
      anyIncomplete,
    );
    return { phases, runAssertions, coverage, verdict, findings: collectFindings([...phases.flatMap((p) => p.assertions), ...coverage.flatMap((c) => c.assertions), ...runAssertions]) };
  }
}

/** Every finding once, in the order assertions report them. */
function collectFindings(assertions: AssertionResult[]): Finding[] {
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const a of assertions) {
    for (const f of a.findings) {
      const key = JSON.stringify([f.kind, f.file, 'packet' in f ? f.packet : undefined, 'line' in f ? f.line : undefined, f.summary]);
      if (!seen.has(key)) {
        seen.add(key);
        findings.push(f);
      }
    }
  }
  return findings;
}

/**
 * Where the tail of a rotated capture's part starts (epoch ms, from the part's last packet): the
 * next part's scanners are shown those packets for canaries only (RunJudge.fileLookback), with 2 s
 * to spare for packets slightly out of time order. The live analysis (live.ts) uses the same.
 */
export const partTailFromMs = (lastMs: number) => lastMs - CANARY_LOOKBACK_MS - 2000;

/** Judges a run from its run directory: every network capture is read once and fed to a RunJudge. */
export async function judgeRun(input: JudgeInput): Promise<Judgement> {
  const judge = new RunJudge(input);
  for (const c of input.captures) {
    if (c.kind !== 'network') continue;
    let prev: { file: string; lastMs: number } | undefined;
    let read = 0;
    for (const [k, f] of c.files.entries()) {
      const file = path.join(input.runDir, f);
      const label = fileLabel(file, input.runDir);
      let info: CaptureInfo;
      try {
        // A later part of a rotated capture: the previous part's last seconds first, for canaries only.
        if (prev && input.canaries) {
          const from = partTailFromMs(prev.lastMs);
          const tail = judge.fileLookback(label);
          await readCapture(prev.file, (p) => {
            if (p.timeMs >= from) tail(p);
          });
        }
        info = await readCapture(file, judge.file(label));
      } catch (error) {
        // A capture that cannot be read proves nothing: its windows become INCONCLUSIVE.
        info = { format: 'pcap', packets: 0, linkTypes: [], stopped: false, damage: { offset: 0, reason: `cannot be read: ${(error as Error).message}` } };
      }
      read += info.packets;
      // The capture child counted every record it wrote (c.records, over all its parts). Fewer in
      // the files listed means a part is missing from the list or a file lost records: packets
      // nobody judged, so every window is INCONCLUSIVE (never PASS on what was not read).
      if (k === c.files.length - 1 && c.records > read && !info.damage) {
        info = { ...info, damage: { offset: -1, reason: `the capture wrote ${c.records} packets but its ${c.files.length} file(s) hold ${read}: packets were not judged` } };
      }
      judge.endFile(label, info);
      prev = info.lastMs !== undefined ? { file, lastMs: info.lastMs } : prev;
    }
  }
  return judge.finish();
}

export interface CapturesJudgement {
  verdict: Verdict;
  /** The run-wide egress policy over the whole of the captures. */
  assertion: AssertionResult;
  /** Network findings, then radio broadcasts and probe requests. */
  findings: Finding[];
  damage: CaptureDamage[];
  scan: NetworkScan;
  radio: RadioReport;
  /** TCP capture loss per file that carried TCP (the file is the capture's name), or why not estimated. */
  captureLoss: CaptureLossEntry[];
}

/**
 * `analyze`: captures made anywhere, judged as one window: network frames by the egress policy
 * of `--lab`, radio frames by the radio decoders (Remote ID, drone-ID and probe requests are
 * findings). No canaries or sinkhole stand witness here, so only damage, drops and frames not
 * decoded make it INCONCLUSIVE.
 */
export async function judgeCaptures(
  files: string[],
  opts: { lab: string[]; labNames?: string[]; catalogue?: EndpointCatalogue; captureLossMax?: number },
): Promise<CapturesJudgement> {
  const collector = new RadioCollector();
  const scanner = new NetworkScanner({ lab: opts.lab, labNames: opts.labNames ?? [], catalogue: opts.catalogue, onRadio: (p, file) => collector.add(p, file) });
  for (const file of files) {
    const info = await readCapture(file, scanner.file(file));
    scanner.endFile(file, info);
  }
  const scan = scanner.result();
  const radio = collector.report();
  const damage: CaptureDamage[] = [...scan.damage];
  if (radio.undecoded > 0) damage.push({ file: files.join(', '), offset: -1, reason: `${radio.undecoded} radio frame(s) are too short or of a header layout not decoded, so they were not judged` });
  for (const u of radio.incompleteAdverts) damage.push({ file: u.file, offset: -1, reason: incompleteAdvertReason(u).slice(u.file.length + 2) });
  // A capture that missed acknowledged TCP data above the limit dropped packets it does not
  // report (a mirror over its bandwidth, a tap): its silence proves nothing, as in a run's phase.
  const captureLoss = scan.files.flatMap((f) => captureLossEntry(f.file, f.file, f.tcpLoss) ?? []);
  for (const e of captureLoss) {
    const why = captureLossReason(e, opts.captureLossMax ?? DEFAULT_LOSS_MAX);
    if (why) damage.push({ file: e.file, offset: -1, reason: `${why}: the capture dropped packets it does not report` });
  }
  const findings: Finding[] = [...scan.findings, ...radio.broadcasts, ...radio.probes];
  const blind = damage.map((d) => `${d.file}${d.offset >= 0 ? ` ${d.unjudged ? 'has frames it cannot judge from' : 'is damaged at'} byte offset ${d.offset}` : ''}: ${d.reason}`);
  const assertion: AssertionResult = {
    kind: 'egress_policy',
    ...decide(scan.findings, scan.findings.length > 0 ? [] : blind, false),
    findings: scan.findings,
    params: { lab: opts.lab, names: opts.labNames ?? [] },
  };
  const verdict: Verdict = findings.length > 0 ? 'FAIL' : damage.length > 0 ? 'INCONCLUSIVE' : 'PASS';
  return { verdict, assertion, findings, damage, scan, radio, captureLoss };
}
