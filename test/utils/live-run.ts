/**
 * A run on a simulated clock, for the tests that hold the live analysis (src/verdict/live.ts) to
 * the post-run engine (judgeRun) and the engine to a capture's parts: a run directory with its
 * scenario, the phase windows opened and closed as the clock passes them, the LiveAnalyzer ticked
 * at each step after the test's captures have written what they flushed, then stopped; and the
 * network findings of both as keys (`window|rule file#packet`) that compare one to one.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadRig, loadScenario, type RigConfig, type ScenarioConfig } from '../../src/config/index.js';
import { judgeRun, LiveAnalyzer, type JudgeInput, type Judgement, type LiveFinding, type LiveState } from '../../src/verdict/index.js';

export interface ScenarioRun {
  runDir: string;
  scenario: ScenarioConfig;
  rig: RigConfig;
}

/** A new run directory under `parent` holding `yaml` as its scenario.yaml, loaded, on the virtual rig. */
export function scenarioRun(parent: string, yaml: string): ScenarioRun {
  const runDir = mkdtempSync(path.join(parent, 'run-'));
  const scenarioFile = path.join(runDir, 'scenario.yaml');
  writeFileSync(scenarioFile, yaml);
  return { runDir, scenario: loadScenario(scenarioFile), rig: loadRig(path.resolve('rig/virtual.yaml')) };
}

export interface ClockRunOptions extends ScenarioRun {
  /** The clock's zero: phases and endMs count from it. */
  t0: number;
  /** Each phase's window [start, end] in ms after t0, as the run machine records them. */
  phases: Array<[number, number]>;
  /** The captures end this long after t0. */
  endMs: number;
  /** The clock's step. */
  stepMs: number;
  /** The captures as they flush at `now`, before the live analysis ticks (files are added to `live` here or before). */
  write: (now: number, live: LiveAnalyzer) => void;
  /** After each tick (samples of what the analysis holds). */
  afterTick?: (now: number, live: LiveAnalyzer) => void;
  /** Once the clock has run out, before the live analysis stops (what the captures still held). */
  beforeStop?: () => void;
  onState?: (state: LiveState, detail?: string) => void;
}

export interface ClockRun {
  live: LiveAnalyzer;
  windows: Array<{ startMs?: number; endMs?: number }>;
  told: LiveFinding[];
  /** The clock's time at which each of `told` was told. */
  toldAt: number[];
  /** judgeRun over the same run directory, windows and capture times, for `captures`. */
  judge: (captures: JudgeInput['captures']) => Promise<Judgement>;
}

/** The captures start 1 s before t0; the clock runs from there to 300 ms past their end. */
const LEAD_MS = 1000;

/**
 * Runs the clock. `files` are added to the live analysis before it starts (label, capture name);
 * a test that makes files as it goes (rotation) adds them in `write`.
 */
export async function runOnSimulatedClock(o: ClockRunOptions, files: Array<[string, string]> = []): Promise<ClockRun> {
  const { t0, phases, endMs } = o;
  let now = t0 - LEAD_MS;
  const windows: ClockRun['windows'] = phases.map(() => ({}));
  let final = false;
  let capturesEndMs: number | undefined;
  const told: LiveFinding[] = [];
  const toldAt: number[] = [];
  const live = new LiveAnalyzer({
    runDir: o.runDir,
    rig: o.rig,
    scenario: o.scenario,
    capturesStartMs: t0 - LEAD_MS,
    times: () => ({ windows, final, capturesEndMs }),
    onFinding: (f) => {
      told.push(f);
      toldAt.push(now);
    },
    ...(o.onState ? { onState: o.onState } : {}),
    now: () => now,
  });
  for (const [label, capture] of files) live.addFile(label, capture);
  for (; now <= t0 + endMs + 300; now += o.stepMs) {
    phases.forEach(([s, e], i) => {
      if (now >= t0 + s && windows[i]!.startMs === undefined) windows[i]!.startMs = t0 + s;
      if (now >= t0 + e && windows[i]!.endMs === undefined) windows[i]!.endMs = t0 + e;
    });
    if (now >= t0 + phases[phases.length - 1]![1]) final = true;
    o.write(now, live);
    live.tick(false);
    o.afterTick?.(now, live);
  }
  o.beforeStop?.();
  capturesEndMs = t0 + endMs;
  await live.stop();
  const judge = (captures: JudgeInput['captures']) =>
    judgeRun({ runDir: o.runDir, rig: o.rig, scenario: o.scenario, windows, capturesStartMs: t0 - LEAD_MS, capturesEndMs: t0 + endMs, incomplete: new Set(), captures });
  return { live, windows, told, toldAt, judge };
}

const NETWORK_RULES = new Set(['egress_policy', 'no_egress', 'no_dns', 'traffic_only_to']);

/** The post-run engine's network findings as `window|rule file#packet`, sorted: the phases', and with `coverage` those of the windows between and around them. */
export function postRunKeys(j: Judgement, { coverage }: { coverage: boolean }): string[] {
  const keys = (name: string, assertions: Judgement['phases'][number]['assertions']) =>
    assertions.filter((a) => NETWORK_RULES.has(a.kind)).flatMap((a) => a.findings.map((f) => `${name}|${a.kind} ${f.file}#${'packet' in f ? f.packet : ''}`));
  return [
    ...j.phases.flatMap((p) => keys(p.name, p.assertions)),
    ...(coverage ? j.coverage.filter((c) => c.kind !== 'phase').flatMap((c) => keys(c.name, c.assertions)) : []),
  ].sort();
}

/** The live findings in the same form, sorted. */
export function liveKeys(told: LiveFinding[]): string[] {
  return told.map((f) => `${f.window}|${f.assertion} ${f.file}#${f.packet}`).sort();
}
