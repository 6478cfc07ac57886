/**
 * One run, end to end: load -> run directory -> the run machine (preflight, phases, safing)
 * -> judge -> result.json, reports, manifest, signature -> exit code. This file binds the
 * machine's named actors to a rig session; the machine and the step executors never see a
 * concrete driver.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { createActor, fromPromise, toPromise } from 'xstate';
import { checkScenarioAgainstRig, loadRig, loadScenario } from '../config/index.js';
import type { RigConfig, ScenarioConfig } from '../config/types.js';
import { InputError, RigFaultError } from '../errors.js';
import { RunDirectory } from '../evidence/run-directory.js';
import type { CaptureRecord, FirmwareRecord, RunResult } from '../evidence/result.js';
import { loadControlsMapping } from '../evidence/controls.js';
import { consoleFinding, fingerprintOfPrivateKey, loadSigningKey } from '../evidence/index.js';
import { recordOutputs, runOutputs, sealOutputs, type OutputFailure } from '../evidence/outputs/index.js';
import type { CaptureResult } from '../devices/capture/capture.js';
import type { openRig } from '../rig/open-rig.js';
import {
  runMachine,
  type AnalysisRequest,
  type PreflightResult,
  type RunFault,
  type RunRecord,
  type SafingOutput,
  type StepFailure,
  type StepRef,
} from './run-machine.js';
import { exitCodeAfterOutputs, runResultOf } from './run-result.js';
import { describeStep, executeStep, toStepFailure } from './steps.js';
import { judgeRun, type Judgement } from '../verdict/index.js';
import type { RigSession } from '../rig/session.js';
import { CANARY_LEDGER_FILE, canariesForAnalysis } from '../verdict/canary-ledger.js';
import { acquireRigLock, describeHolder } from '../rig/rig-lock.js';
import { isDiskFull, reportWriteError, watchFaults, type HealthFault } from '../devices/health/index.js';
import { recordGroupsIn } from '../process-groups.js';
import { checkDisk, DiskReserve, estimateDisk } from './disk.js';
import { claimRunState, recoverDeadRuns, releaseRunState } from './recover.js';
import { CounterSampler, type CountersEvent } from './counters.js';
import { EventLog } from './event-log.js';
import { startLiveAnalysis, type LiveRun } from './live-findings.js';
// The profile names only (pure data), to refuse a typo before anything is powered.

/** Progress events for the console display, `--json` streams and suites. */
export type RunProgress =
  | { type: 'start'; runDir: string; runId: string; scenario: string; rig: string; phases: string[] }
  | { type: 'state'; state: string }
  | { type: 'phase'; index: number; name: string; total: number }
  | { type: 'step'; phase: string; index: number; total: number; text: string; timeoutMs: number; /** Dwells still ahead, this step's included: a lower bound of the time left. */ remainingDwellMs: number; /** The same within this phase. */ phaseRemainingDwellMs?: number }
  | { type: 'step_end'; phase: string; index: number; ok: boolean }
  | { type: 'safing'; reason: string }
  | { type: 'safed'; channelsOff: string[]; channelsFailed: Array<{ channel: string; error: string }> }
  | { type: 'recovered'; runId: string; runDir?: string; channelsOff: string[]; channelsFailed: Array<{ channel: string; error: string }> }
  | CountersEvent
  /** A finding of the live analysis (src/verdict/live.ts), told while the run goes on; result.json stays the authority. */
  | { type: 'finding'; live: true; window: string; phase: string | null; assertion: string; text: string; names: string[]; capture: string; file: string; packet?: number; at: string }
  | { type: 'live'; state: 'started' | 'behind' | 'stopped'; detail?: string }
  | { type: 'rotated'; capture: string; file: string; index: number }
  | { type: 'done'; verdict: string; exitCode: number; runDir: string; phases: Array<{ name: string; verdict: string; findings?: string[]; /** Why an assertion could not decide (INCONCLUSIVE), one per assertion. */ reasons?: string[] }>; reason?: string };

export interface RunScenarioOptions {
  scenario: string;
  rig?: string;
  out?: string;
  set?: Record<string, string>;
  firmware?: Record<string, string>;
  /** Private key file for signing (else env AIRLOCK_SIGNING_KEY; else unsigned). */
  key?: string;
  /** The signing key itself (PEM), loaded once by a caller that runs many scenarios (suite). */
  signingKeyPem?: string;
  /** The lab's control mapping (schema/controls.schema.json), extending or replacing the shipped one. */
  controls?: string;
  /** Aborting this signal aborts the run (safing first). SIGINT/SIGTERM/SIGHUP do the same. */
  signal?: AbortSignal;
  onProgress?: (e: RunProgress) => void;
  /** Ask the technician (prompt steps, manual drivers); default: no terminal, refuse. */
  prompt?: (text: string, timeoutMs: number) => Promise<void>;
  /** Handle SIGINT/SIGTERM/SIGHUP (default true). */
  handleSignals?: boolean;
  /** How long to wait for a real rig held by another job (ms); then exit 4 naming the holder. */
  wait?: number;
  /** End the run at the first live finding (safing; later phases NOT_RUN). */
  stopOnFinding?: boolean;
  /** Tests: build the rig session some other way. */
  openRig?: typeof openRig;
}

export interface RunOutcome {
  runDir: string;
  result: RunResult;
  exitCode: number;
}

/** Resolves the rig file: --rig, else the scenario's `rig:`, else rig/virtual.yaml. */
export function resolveRigFile(scenario: ScenarioConfig, rigOpt?: string): string {
  if (rigOpt) return path.resolve(rigOpt);
  if (scenario.rig) return path.resolve(path.dirname(scenario.file), scenario.rig);
  // rig/virtual.yaml of the current directory, else the one shipped with Airlock.
  const local = path.resolve('rig/virtual.yaml');
  return existsSync(local) ? local : fileURLToPath(new URL('../../rig/virtual.yaml', import.meta.url));
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Applies --firmware: on the virtual rig a profile or command; on a real rig an image that is hashed, never run. */
async function applyFirmware(rig: RigConfig, firmware: Record<string, string>): Promise<FirmwareRecord[]> {
  for (const [device, value] of Object.entries(firmware)) {
    const d = rig.devices[device];
    if (!d) throw new InputError('AIRLOCK_RUN_UNKNOWN_DEVICE', `--firmware ${device}=...: the rig has no device "${device}" (it has: ${Object.keys(rig.devices).join(', ')})`);
    d.firmware = value;
  }
  const records: FirmwareRecord[] = [];
  for (const [name, d] of Object.entries(rig.devices)) {
    if (!d.firmware) continue;
    if (!rig.virtual) {
      const image = path.resolve(d.firmware);
      if (!existsSync(image)) throw new InputError('AIRLOCK_RUN_NO_IMAGE', `firmware image for ${name} not found: ${image}`);
      records.push({ device: name, value: d.firmware, sha256: sha256(readFileSync(image)) });
    } else {
      await checkVirtualFirmware(name, d.firmware);
      records.push({ device: name, value: d.firmware, sha256: sha256(d.firmware) });
    }
  }
  return records;
}

/**
 * A bare word that is neither a built-in profile nor a program on PATH is a typo
 * (`leaky-htps`): run as a command it would do nothing, and the run could pass.
 */
async function checkVirtualFirmware(device: string, value: string): Promise<void> {
  // Imported here, not at the top: a real bench's run loads no simulator code.
  const { isProfileName, PROFILES } = await import('../sim/firmware/index.js');
  if (!/^[A-Za-z0-9_.-]+$/.test(value) || isProfileName(value)) return;
  const onPath = (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(path.join(dir, value)));
  if (onPath) return;
  throw new InputError(
    'AIRLOCK_RUN_UNKNOWN_FIRMWARE',
    `firmware for ${device}: "${value}" is not a built-in profile (${Object.keys(PROFILES).join(', ')}) nor a program on PATH`,
  );
}

export async function runScenario(opts: RunScenarioOptions): Promise<RunOutcome> {
  const scenario = loadScenario(opts.scenario, { set: opts.set ?? {} });
  const rigFile = resolveRigFile(scenario, opts.rig);
  const rig = loadRig(rigFile);
  checkScenarioAgainstRig(scenario, rig);
  const firmware = await applyFirmware(rig, opts.firmware ?? {});
  // One bench, one job: a real rig is locked for the whole run (re-entrant inside a suite that
  // already holds it). Runs of the virtual rig may share a host: their names carry the run id.
  if (rig.virtual) return runLocked(opts, scenario, rig, rigFile, firmware);
  const lock = await acquireRigLock(rig.name, {
    waitMs: opts.wait ?? 0,
    command: `airlock run ${opts.scenario}`,
    onWait: (holder) => opts.onProgress?.({ type: 'state', state: `waiting for rig ${rig.name} (held by ${describeHolder(holder)})` }),
  });
  try {
    return await runLocked(opts, scenario, rig, rigFile, firmware);
  } finally {
    await lock.release();
  }
}

async function runLocked(
  opts: RunScenarioOptions,
  scenario: ScenarioConfig,
  rig: RigConfig,
  rigFile: string,
  firmware: FirmwareRecord[],
): Promise<RunOutcome> {
  // Read the signing key before anything is powered: a bad key is an input error now, not after the run.
  const key = opts.signingKeyPem ?? loadSigningKey({ keyFile: opts.key, env: process.env });
  // Likewise the control mapping: a bad file is an input error before anything is powered.
  const controls = loadControlsMapping(opts.controls);
  // The key (or its path) must not reach any child: simulators, captures, the firmware under test.
  delete process.env.AIRLOCK_SIGNING_KEY;

  const dir = RunDirectory.create(opts.out ?? 'captures', scenario.name);
  // The --json stream, also kept in the run directory for `airlock dashboard <run-dir>` (src/orchestrator/event-log.ts).
  const events = new EventLog(dir.file('events.jsonl'));
  const emit = (e: RunProgress) => {
    events.append(e);
    opts.onProgress?.(e);
  };
  copyFileSync(scenario.file, dir.file('scenario.yaml'));
  copyFileSync(rigFile, dir.file('rig.yaml'));
  const logDest = pino.destination({ dest: dir.file('log.jsonl'), sync: true });
  // A log line that cannot be written (a full disk) is a disk fault, never a crash.
  let logFailed = false;
  logDest.on('error', (err: unknown) => {
    if (logFailed) return;
    logFailed = true;
    reportWriteError('log.jsonl', err);
  });
  const log = pino(
    { level: 'debug', base: { runId: dir.runId }, redact: { paths: ['key', 'secret', '*.secret', 'privateKey'], censor: '[redacted]' } },
    logDest,
  );
  const timeline = dir.timeline();
  timeline.onWriteError = (err) => reportWriteError('timeline.jsonl', err);
  // Runs the previous Airlock processes left behind (SIGKILL, a crash) are switched off and
  // finished before this run touches a rig (src/orchestrator/recover.ts).
  const recovered = await recoverDeadRuns(log).catch((error: unknown) => {
    log.error({ err: error }, 'recovery of dead runs failed');
    return [];
  });
  // This run's state: every process it starts is recorded so nothing is ever orphaned.
  const stateDir = claimRunState({ runId: dir.runId, runDir: dir.path, rig: rig.name, virtual: rig.virtual });
  recordGroupsIn(path.join(stateDir, 'groups'));
  let reserve: DiskReserve | undefined;
  const startedAt = new Date();
  emit({ type: 'start', runDir: dir.path, runId: dir.runId, scenario: scenario.name, rig: rig.name, phases: scenario.phases.map((p) => p.name) });
  timeline.append({ event: 'run_start', scenario: scenario.name, rig: rig.name, runId: dir.runId, params: scenario.params, firmware });
  for (const r of recovered) {
    timeline.append({ event: 'recovered_dead_run', ...r });
    emit({ type: 'recovered', runId: r.runId, runDir: r.runDir, channelsOff: r.channelsOff, channelsFailed: r.channelsFailed });
  }

  // The rig's handles, shared by the actors that use them (opened by preflight, closed by
  // safing). The run's results are not kept here: each actor returns them to the machine,
  // whose output is the finished run record.
  const res: {
    session?: RigSession;
    stepController?: AbortController;
    counterTimer?: NodeJS.Timeout;
    /** The live analysis, and when safing stopped the captures it follows (src/orchestrator/live-findings.ts). */
    liveRun?: LiveRun;
    liveCapturesEndMs?: number;
  } = {};
  const t0 = Date.now();

  const phaseOf = (ref: StepRef) => scenario.phases[ref.phase]!;
  const dwellsFrom = (ref: StepRef) =>
    scenario.phases.reduce(
      (sum, ph, i) => sum + ph.steps.reduce((s, st, j) => s + (st.kind === 'dwell' && (i > ref.phase || (i === ref.phase && j >= ref.step)) ? st.durationMs : 0), 0),
      0,
    );
  const quietLinks = (phase: number) =>
    scenario.phases[phase]!.assertions.flatMap((a) => (a.kind === 'no_mavlink' ? [a.link] : []));

  /** Safing on a rig session: canaries, every channel off, captures stopped, links and rig closed. */
  async function safeSession(s: RigSession, out: SafingOutput): Promise<void> {
    // The last phase's window runs `settle` past its end; safing's window starts there.
    const safingWindowFromMs = Date.now() + scenario.settleMs;
    for (const [name, ch] of s.power) {
      try {
        await ch.off();
        out.channelsOff.push(name);
        timeline.append({ event: 'safing_power_off', channel: name });
      } catch (error) {
        const f = toStepFailure(error, `safing: ${name} off`);
        out.channelsFailed.push({ channel: name, error: f.reason });
        timeline.append({ event: 'safing_error', channel: name, error: f.reason });
        if (f.fault) out.faults.push(f.fault);
      }
    }
    // Safing is a judged window too (src/verdict/coverage.ts): a last canary round, after the
    // power is off, shows the captures could still see while the devices went down.
    try {
      const wait = safingWindowFromMs + 100 - Date.now();
      if (s.canaries?.round && wait > 0) await sleep(wait);
      await s.canaries?.round?.();
    } catch (error) {
      timeline.append({ event: 'safing_error', what: 'canary round', error: (error as Error).message });
    }
    let count = 0;
    try {
      count = (await s.canaries?.stop()) ?? 0;
    } catch (error) {
      timeline.append({ event: 'safing_error', what: 'canaries', error: (error as Error).message });
    }
    await sleep(500);
    out.capturesEndMs = Date.now();
    res.liveCapturesEndMs = out.capturesEndMs;
    if (res.liveRun) res.liveRun.capturesEnded = true;
    const captureResults = new Map<string, CaptureResult>();
    for (const c of s.captures) {
      try {
        const r = await c.stop();
        captureResults.set(c.name, r);
        timeline.append({ event: 'capture_stop', capture: c.name, ...r.stats, lossy: r.lossy, reason: r.reason });
      } catch (error) {
        captureResults.set(c.name, { files: [], stats: { records: 0, dropped: 0 }, lossy: true, reason: `stop failed: ${(error as Error).message}` });
      }
    }
    await res.liveRun?.stop();
    for (const [name, link] of s.links) {
      try {
        out.links[name] = link.stats();
        await link.close();
      } catch (error) {
        timeline.append({ event: 'safing_error', link: name, error: (error as Error).message });
      }
    }
    try {
      await s.close();
    } catch (error) {
      timeline.append({ event: 'safing_error', what: 'rig close', error: (error as Error).message });
    }
    out.captures = captureRecords(s, captureResults, out.links);
    if (s.canaries) out.canaries = { secret: s.canaries.secret, file: CANARY_LEDGER_FILE, count, capturesFor: capturesForAll(s) };
  }

  /** The live analysis: findings told at once (console, --json, timeline); --stop-on-finding ends the run at the first. */
  function startLive(s: RigSession, startMs: number): LiveRun {
    let stopping = false;
    return startLiveAnalysis({
      runDir: dir.path,
      rig,
      scenario,
      capturesStartMs: startMs,
      canarySecret: s.canaries?.secret,
      canaries: s.canaries,
      captures: s.captures,
      times: () => {
        const snap = actor.getSnapshot();
        return { windows: snap.context.windows, final: !snap.matches('preflight') && !snap.matches('running'), capturesEndMs: res.liveRun?.capturesEnded ? res.liveCapturesEndMs : undefined };
      },
      onFinding: (f) => {
        const { finding, ...event } = f;
        const text = consoleFinding(f.assertion, finding);
        timeline.append({ event: 'finding', ...event, live: true, text });
        emit({ type: 'finding', live: true, ...event, text });
        if (opts.stopOnFinding && !stopping) {
          stopping = true;
          abort(`--stop-on-finding: ${text}`);
        }
      },
      onState: (state, detail) => {
        timeline.append({ event: 'live_analysis', state, ...(detail ? { detail } : {}) });
        emit({ type: 'live', state, ...(detail ? { detail } : {}) });
      },
      onRotated: (r) => {
        timeline.append({ event: 'capture_rotated', ...r });
        emit({ type: 'rotated', ...r });
      },
    });
  }

  const machine = runMachine.provide({
    actors: {
      preflight: fromPromise<PreflightResult, void>(async () => {
        // What preflight has found so far travels with its failure, so safing and the record keep it.
        const found: PreflightResult = {};
        try {
          const disk = checkDisk(estimateDisk(scenario, rig.name, dir.path), dir.path);
          timeline.append({ event: 'preflight_check', check: disk });
          reserve = DiskReserve.create(dir.path);
          if (!reserve.held) throw new RigFaultError('AIRLOCK_RUN_DISK', 'host', 'write .reserve', 'could not hold back space for result.json in the run directory');
          if (new Date().getUTCFullYear() < 2024) throw new RigFaultError('AIRLOCK_RUN_CLOCK', 'host', 'clock', `the clock says ${new Date().toISOString()}`);
          // Imported here, not at the top: a bad file is reported before any driver loads.
          const open = opts.openRig ?? (await import('../rig/open-rig.js')).openRig;
          const session = await open(rig, { runDir: dir.path, runId: dir.runId, log, prompt: opts.prompt });
          res.session = session;
          for (const [name, link] of session.links) link.onNote?.((event, fields) => timeline.append({ event, link: name, ...fields }));
          found.report = await session.preflight();
          for (const check of found.report.checks) timeline.append({ event: 'preflight_check', check });
          // The canary senders start while the captures do (a process each: slow on a loaded
          // host), and send their first round as soon as every capture is capturing.
          session.canaries?.spawn?.();
          await Promise.all(
            session.captures.map(async (c) => {
              await c.start();
              timeline.append({ event: 'capture_start', capture: c.name, kind: c.kind });
            }),
          );
          // The first judged instant (src/verdict/coverage.ts): every power channel is off and
          // every capture capturing, and the canaries start now, so the preflight window holds
          // canaries from its start. (A packet captured before it is still judged, by preflight.)
          found.capturesStartMs = Date.now();
          await session.canaries?.start();
          res.liveRun = startLive(session, found.capturesStartMs);
          const counters = new CounterSampler(session, t0, () => res.liveRun?.canaryHealth());
          res.counterTimer = setInterval(() => emit(counters.sample()), 1000);
          res.counterTimer.unref();
          return found;
        } catch (error) {
          const failure: StepFailure = toStepFailure(error, 'preflight');
          failure.preflight = found;
          throw failure;
        }
      }),
      runStep: fromPromise<void, StepRef>(async ({ input, signal }) => {
        const phase = phaseOf(input);
        const step = phase.steps[input.step]!;
        const controller = new AbortController();
        res.stepController = controller;
        const onAbort = () => controller.abort();
        signal.addEventListener('abort', onAbort);
        try {
          await executeStep(res.session!, step, controller.signal, {
            note: (event, fields) => timeline.append({ event, phase: phase.name, ...fields }),
          });
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      }),
      safe: fromPromise<SafingOutput, { fault?: RunFault; abort?: { reason: string } }>(async () => {
        // Never throws: every channel is switched off even when another fails.
        res.stepController?.abort();
        clearInterval(res.counterTimer);
        const out: SafingOutput = { endedAt: '', channelsOff: [], channelsFailed: [], faults: [], capturesEndMs: Date.now(), captures: [], links: {} };
        try {
          if (res.session) await safeSession(res.session, out);
        } catch (error) {
          // safeSession handles each part's failure; anything else is logged and safing still ends.
          log.error({ err: error }, 'safing failed');
          timeline.append({ event: 'safing_error', what: 'safing', error: (error as Error)?.message ?? String(error) });
        } finally {
          // The captures are stopped: the space held back is now for result.json and the reports.
          reserve?.release();
          timeline.retry();
          out.endedAt = new Date().toISOString();
          timeline.append({ event: 'safing_end', channelsOff: out.channelsOff, channelsFailed: out.channelsFailed });
          emit({ type: 'safed', channelsOff: out.channelsOff, channelsFailed: out.channelsFailed });
        }
        return out;
      }),
      analyse: fromPromise<Judgement, AnalysisRequest>(async ({ input }) => {
        // A real bench's gateway sinkhole: its records of the run's span become evidence before judging.
        const sinkholeLog = rig.lab.sinkholeLog;
        if (sinkholeLog) {
          const { fetchSinkholeLog } = await import('../rig/sinkhole-fetch.js');
          const fetched = await fetchSinkholeLog(sinkholeLog, { fromMs: input.capturesStartMs ?? t0, toMs: input.capturesEndMs }, dir.path);
          timeline.append({ event: 'sinkhole_log', ...fetched });
        }
        return judgeRun({
          runDir: dir.path,
          rig,
          scenario,
          windows: input.windows,
          capturesStartMs: input.capturesStartMs,
          capturesEndMs: input.capturesEndMs,
          incomplete: new Set(input.incompletePhases),
          captures: input.captures,
          // The canaries from the run directory's canaries.jsonl, checked line by line.
          canaries: canariesForAnalysis(dir.path, input.canaries),
          floorsDbm: input.floorsDbm,
        });
      }),
      report: fromPromise<void, RunRecord>(async ({ input }) => {
        if (input.analysisError) {
          log.error({ error: input.analysisError }, 'analysis failed: the verdict is INCONCLUSIVE');
          timeline.append({ event: 'analysis_error', error: input.analysisError });
        }
      }),
    },
    actions: {
      onPhaseStart: (_, p) => {
        const phase = scenario.phases[p.phase]!;
        timeline.append({ event: 'phase_start', phase: phase.name });
        emit({ type: 'phase', index: p.phase, name: phase.name, total: scenario.phases.length });
        // A canary round at every phase boundary, so even a short phase holds canaries.
        void res.session?.canaries?.round?.().catch((error: Error) => log.warn({ err: error }, 'canary round failed'));
        const quiet = new Set(quietLinks(p.phase));
        for (const [name, link] of res.session?.links ?? []) link.setQuiet(quiet.has(name));
      },
      onPhaseEnd: (_, p) => {
        timeline.append({ event: 'phase_end', phase: scenario.phases[p.phase]!.name });
        void res.session?.canaries?.round?.().catch((error: Error) => log.warn({ err: error }, 'canary round failed'));
      },
      onStepStart: (_, p) => {
        const phase = phaseOf(p);
        const step = phase.steps[p.step]!;
        timeline.append({ event: 'step_start', phase: phase.name, step: p.step, kind: step.kind, text: describeStep(step) });
        emit({ type: 'step', phase: phase.name, index: p.step, total: phase.steps.length, text: describeStep(step), timeoutMs: step.timeoutMs, remainingDwellMs: dwellsFrom(p), phaseRemainingDwellMs: dwellsFrom(p) - dwellsFrom({ phase: p.phase + 1, step: 0 }) });
      },
      onStepEnd: (_, p) => {
        const phase = phaseOf(p);
        timeline.append({ event: 'step_end', phase: phase.name, step: p.step, ok: p.ok });
        emit({ type: 'step_end', phase: phase.name, index: p.step, ok: p.ok });
      },
      onSafing: (_, p) => {
        const reason = p.fault ? `rig fault: ${p.fault.message}` : p.abort ? `aborted: ${p.abort.reason}` : 'run complete';
        timeline.append({ event: 'safing', reason });
        emit({ type: 'safing', reason });
      },
    },
  });

  function capturesForAll(s: RigSession): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    const names = s.canaries?.injectors?.() ?? Object.keys(rig.devices);
    for (const name of names) out[name] = s.canaries?.capturesFor(name) ?? [];
    return out;
  }

  const actor = createActor(machine, { input: { stepsPerPhase: scenario.phases.map((p) => p.steps.length) } });
  let lastState = '';
  actor.subscribe((snap) => {
    const state = JSON.stringify(snap.value);
    if (state !== lastState) {
      lastState = state;
      timeline.append({ event: 'state', state: snap.value });
      emit({ type: 'state', state: typeof snap.value === 'string' ? snap.value : Object.keys(snap.value)[0]! });
    }
  });

  const abort = (reason: string) => {
    const snap = actor.getSnapshot();
    if (snap.matches('safing') || snap.matches('analysing') || snap.matches('reporting') || snap.status === 'done') {
      timeline.append({ event: 'abort_ignored', reason, note: 'safing in progress; it is not skipped' });
      return;
    }
    timeline.append({ event: 'abort', reason });
    actor.send({ type: 'ABORT', reason });
  };
  const onSigint = () => abort('SIGINT');
  const onSigterm = () => abort('SIGTERM');
  // The technician's terminal closed: the rig must not stay powered with nobody watching.
  const onSighup = () => abort('SIGHUP');
  const handleSignals = opts.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    process.on('SIGHUP', onSighup);
  }
  // Health monitoring: the first failure any part reports moves the machine to safing; later
  // ones (and those during safing) are recorded in the timeline only.
  const stopWatching = watchFaults((f: HealthFault) => {
    const fault = toRunFault(f);
    const snap = actor.getSnapshot();
    const live = snap.matches('preflight') || snap.matches('running');
    timeline.append({ event: 'fault', ...fault, ...(live ? {} : { during: JSON.stringify(snap.value) }) });
    if (live) actor.send({ type: 'FAULT', fault });
  });
  // Anything thrown that nobody caught must not end the run with a stack trace and the rig on:
  // a full disk is a disk fault; anything else an abort (an internal error: never a PASS).
  const onUncaught = (error: unknown) => {
    log.error({ err: error }, 'uncaught error during the run');
    if (isDiskFull(error)) return reportWriteError('run directory', error);
    abort(`internal error: ${(error as Error)?.message ?? String(error)}`);
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  const onExternalAbort = () => abort(String(opts.signal?.reason ?? 'aborted'));
  opts.signal?.addEventListener('abort', onExternalAbort);

  let record: RunRecord;
  try {
    actor.start();
    record = await toPromise(actor);
  } finally {
    if (handleSignals) {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      process.off('SIGHUP', onSighup);
    }
    stopWatching();
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    opts.signal?.removeEventListener('abort', onExternalAbort);
    reserve?.release();
    recordGroupsIn(undefined);
    releaseRunState(dir.runId);
  }

  const result = runResultOf(record, { runId: dir.runId, scenario, rig: rig.name, firmware, startedAt, endedAt: new Date() });
  timeline.append({ event: 'verdict', verdict: result.verdict, exitCode: result.exitCode, fault: result.fault, abort: result.abort });
  timeline.close();
  // The outputs are callbacks over the finished record (src/evidence/outputs/): one that fails
  // is logged and the others still run; the seal comes last, after the log is flushed.
  const onOutputFailure = (f: OutputFailure, error: unknown) => log.error({ err: error, output: f.output }, `writing ${f.output} failed`);
  const failures = await runOutputs(
    recordOutputs({ controls, signerFingerprint: key ? fingerprintOfPrivateKey(key) : undefined, sdrs: rig.captures.sdr }),
    result,
    dir.path,
    onOutputFailure,
  );
  log.info({ verdict: result.verdict, exitCode: result.exitCode }, 'run finished');
  try {
    log.flush?.();
  } catch {
    /* reported as a disk fault when it first failed */
  }
  const runReason = result.fault ? `rig fault: ${result.fault.message}` : result.abort ? `aborted: ${result.abort.reason}` : undefined;
  const doneEvent = (): RunProgress => ({
    type: 'done',
    verdict: result.verdict,
    exitCode: exitCodeAfterOutputs(result, failures),
    runDir: dir.path,
    // Each finding with every name it carried and the capture file (consoleFinding), so the console hides none; then any
    // window outside the phases the run-wide policy did not pass (preflight, a gap, safing).
    phases: [
      ...result.phases.map((p) => ({
        name: p.name,
        verdict: p.verdict,
        findings: p.assertions.flatMap((a) => a.findings.map((f) => consoleFinding(a.kind, f))),
        reasons: undecided(p.assertions),
      })),
      ...(result.coverage ?? [])
        .filter((c) => c.kind !== 'phase' && c.verdict !== 'PASS')
        .map((c) => ({ name: `(${c.name})`, verdict: c.verdict, findings: c.assertions.flatMap((a) => a.findings.map((f) => consoleFinding(a.kind, f))), reasons: undecided(c.assertions) })),
    ],
    // An output that could not be written is named beside the run's own reason.
    reason: [runReason, failures.length ? `could not write ${failures.map((f) => `${f.output} (${f.message})`).join(', ')}` : undefined].filter(Boolean).join('; ') || undefined,
  });
  // events.jsonl ends with the verdict and is closed before the manifest hashes it.
  events.append(doneEvent());
  events.close();
  failures.push(...(await runOutputs(sealOutputs(key), result, dir.path)));
  // The caller hears the final word: a seal that could not be written raises the exit code too.
  const done = doneEvent();
  opts.onProgress?.(done);
  return { runDir: dir.path, result, exitCode: exitCodeAfterOutputs(result, failures) };
}

/** Each INCONCLUSIVE assertion's reason, named by its kind, so the console says why a phase could not be decided. */
function undecided(assertions: Array<{ kind: string; verdict: string; reason?: string }>): string[] {
  return assertions.filter((a) => a.verdict === 'INCONCLUSIVE').map((a) => `${a.kind}: ${a.reason ?? 'no reason recorded'}`);
}

/** What each capture and MAVLink link recorded, from the session as safing closed it. */
function captureRecords(s: RigSession, results: ReadonlyMap<string, CaptureResult>, linkStats: Record<string, unknown>): CaptureRecord[] {
  const out: CaptureRecord[] = [];
  for (const c of s.captures) {
    const r = results.get(c.name);
    out.push({
      name: c.name,
      kind: c.kind,
      files: r?.files ?? [],
      records: r?.stats.records ?? 0,
      dropped: r?.stats.dropped ?? 0,
      lossy: r ? r.lossy : true,
      reason: r ? r.reason : 'capture never stopped cleanly',
    });
  }
  for (const [name, link] of s.links) {
    const st = (linkStats[name] ?? link.stats()) as { rx?: Record<string, number>; tx?: Record<string, number>; lossy?: string };
    const sum = (m?: Record<string, number>) => Object.values(m ?? {}).reduce((a, b) => a + b, 0);
    // A transport fault (device gone, serial error, socket closed) makes the record lossy.
    out.push({ name, kind: 'mavlink', files: [`mavlink-${name}.tlog`], records: sum(st.rx) + sum(st.tx), dropped: 0, lossy: st.lossy !== undefined, ...(st.lossy ? { reason: st.lossy } : {}) });
  }
  return out;
}

/** A health report as the run records it: the fault named, when it happened and when it was seen. */
function toRunFault(f: HealthFault): RunFault {
  const e = f.error as HealthFault['error'] & { device?: string; command?: string };
  return {
    code: e.code,
    message: e.message,
    device: e.device,
    command: e.command,
    occurredAt: f.occurredAt.toISOString(),
    detectedAt: f.detectedAt.toISOString(),
  };
}
