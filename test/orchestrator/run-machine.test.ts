/**
 * The run machine with fake actors (no rig): the order of states, safing on every path, that a
 * second abort during safing does not skip it, and the finished run record it outputs
 * (`toPromise`): each phase's outcome, each step's, the fault or abort, what safing recorded.
 */
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, toPromise, waitFor } from 'xstate';
import {
  runMachine,
  type AnalysisRequest,
  type PreflightResult,
  type RunFault,
  type RunRecord,
  type SafingOutput,
  type StepRef,
} from '../../src/orchestrator/run-machine.js';
import { StepError } from '../../src/orchestrator/steps.js';
import type { Judgement } from '../../src/verdict/index.js';

/** What the fake safing switched off: the record must carry it. */
function fakeSafing(failChannel?: string): SafingOutput {
  return {
    endedAt: new Date().toISOString(),
    channelsOff: ['drone', 'phone'].filter((c) => c !== failChannel),
    channelsFailed: failChannel ? [{ channel: failChannel, error: `safing: ${failChannel} off: relay silent` }] : [],
    faults: failChannel ? [{ code: 'AIRLOCK_POWER_TIMEOUT', message: 'relay silent', device: failChannel }] : [],
    capturesEndMs: Date.now(),
    captures: [{ name: 'lab', kind: 'pcap', files: ['capture-lab.pcapng'], records: 42, dropped: 0, lossy: false }],
    links: {},
  };
}

function harness(opts: {
  steps: number[];
  stepImpl?: (ref: StepRef, signal: AbortSignal) => Promise<void>;
  safeMs?: number;
  preflightFails?: boolean;
  safeFailChannel?: string;
  /** The fake analysis: its verdict (default PASS; INCONCLUSIVE when a phase is incomplete). */
  verdict?: Judgement['verdict'];
}) {
  const log: string[] = [];
  const seen: { analysis?: AnalysisRequest; safeInput?: { fault?: RunFault; abort?: { reason: string } }; reported?: RunRecord } = {};
  let releaseSafe: () => void = () => {};
  const machine = runMachine.provide({
    actors: {
      preflight: fromPromise<PreflightResult, void>(async () => {
        log.push('preflight');
        if (opts.preflightFails) {
          const e = new StepError('fault', 'psu silent', { code: 'AIRLOCK_POWER_TIMEOUT', message: 'psu silent', device: 'drone', command: 'OUTP?' });
          throw Object.assign(e, { preflight: { report: { checks: ['disk ok'] } } });
        }
        return { report: { checks: ['disk ok', 'psu answers'] }, capturesStartMs: 1000 };
      }),
      runStep: fromPromise<void, StepRef>(async ({ input, signal }) => {
        log.push(`step ${input.phase}.${input.step}`);
        await (opts.stepImpl ?? (async () => {}))(input, signal);
      }),
      safe: fromPromise<SafingOutput, { fault?: RunFault; abort?: { reason: string } }>(async ({ input }) => {
        log.push('safe');
        seen.safeInput = input;
        await new Promise<void>((resolve) => {
          releaseSafe = resolve;
          if (!opts.safeMs) resolve();
          else setTimeout(resolve, opts.safeMs);
        });
        log.push('safe done');
        return fakeSafing(opts.safeFailChannel);
      }),
      analyse: fromPromise<Judgement, AnalysisRequest>(async ({ input }) => {
        log.push('analyse');
        seen.analysis = input;
        const verdict = opts.verdict ?? (input.incompletePhases.length ? 'INCONCLUSIVE' : 'PASS');
        return { phases: [], runAssertions: [], coverage: [], verdict, findings: [] };
      }),
      report: fromPromise<void, RunRecord>(async ({ input }) => {
        log.push('report');
        seen.reported = input;
      }),
    },
  });
  const actor = createActor(machine, { input: { stepsPerPhase: opts.steps } });
  return { actor, log, seen, releaseSafe: () => releaseSafe() };
}

describe('run machine', () => {
  it('runs every step of every phase in order, then safes, analyses and reports', async () => {
    const { actor, log } = harness({ steps: [2, 0, 1] });
    actor.start();
    const done = await waitFor(actor, (s) => s.status === 'done');
    expect(log).toEqual(['preflight', 'step 0.0', 'step 0.1', 'step 2.0', 'safe', 'safe done', 'analyse', 'report']);
    expect(done.context.abort).toBeUndefined();
    expect(done.context.fault).toBeUndefined();
    // every phase has a window, the empty one included
    for (const w of done.context.windows) {
      expect(w.startMs).toBeTypeOf('number');
      expect(w.endMs! >= w.startMs!).toBe(true);
    }
  });

  it('a device fault in a step goes to safing and records the fault; later phases never start', async () => {
    const { actor, log } = harness({
      steps: [2, 1],
      stepImpl: async (ref) => {
        if (ref.phase === 0 && ref.step === 1) throw new StepError('fault', 'relay silent', { code: 'AIRLOCK_POWER_TIMEOUT', message: 'relay silent', device: 'phone', command: 'A0 01 01 A2' });
      },
    });
    actor.start();
    const done = await waitFor(actor, (s) => s.status === 'done');
    expect(log).toEqual(['preflight', 'step 0.0', 'step 0.1', 'safe', 'safe done', 'analyse', 'report']);
    expect(done.context.fault).toMatchObject({ device: 'phone', command: 'A0 01 01 A2' });
    expect(done.context.windows[1]!.startMs).toBeUndefined();
  });

  it('a step that gives up (condition never came) is an abort, not a fault', async () => {
    const { actor } = harness({ steps: [1], stepImpl: async () => { throw new StepError('abort', 'wait for heartbeat: timed out'); } });
    actor.start();
    const done = await waitFor(actor, (s) => s.status === 'done');
    expect(done.context.fault).toBeUndefined();
    expect(done.context.abort?.reason).toContain('timed out');
  });

  it('ABORT during a step interrupts it and goes to safing; a second ABORT during safing is ignored', async () => {
    let interrupted = false;
    const { actor, log, releaseSafe } = harness({
      steps: [1, 1],
      safeMs: 10_000,
      stepImpl: (_ref, signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            interrupted = true;
            resolve();
          });
        }),
    });
    actor.start();
    await waitFor(actor, (s) => s.matches({ running: 'step' }));
    actor.send({ type: 'ABORT', reason: 'SIGINT' });
    await waitFor(actor, (s) => s.matches('safing'));
    actor.send({ type: 'ABORT', reason: 'second SIGINT' });
    expect(actor.getSnapshot().matches('safing')).toBe(true);
    releaseSafe();
    const done = await waitFor(actor, (s) => s.status === 'done');
    expect(interrupted).toBe(true);
    expect(done.context.abort?.reason).toBe('SIGINT');
    expect(log).toContain('safe done');
    expect(log.indexOf('analyse')).toBeGreaterThan(log.indexOf('safe done'));
    expect(done.context.windows[0]!.endMs).toBeTypeOf('number');
  });

  it('a preflight fault still goes through safing', async () => {
    const { actor, log } = harness({ steps: [1], preflightFails: true });
    actor.start();
    const done = await waitFor(actor, (s) => s.status === 'done');
    expect(log).toEqual(['preflight', 'safe', 'safe done', 'analyse', 'report']);
    expect(done.context.fault?.device).toBe('drone');
  });

  it('a FAULT from a health monitor stops the running step, goes to safing at once and records the first fault only', async () => {
    let stepAborted = false;
    const { actor, log } = harness({
      steps: [2, 1],
      safeMs: 50,
      stepImpl: (_ref, signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            stepAborted = true;
            resolve();
          });
        }),
    });
    actor.start();
    await waitFor(actor, (s) => s.matches('running'));
    const fault = { code: 'AIRLOCK_SERIAL_LOST', message: 'relay gone', device: 'phone', occurredAt: '2026-01-01T00:00:00.000Z', detectedAt: '2026-01-01T00:00:00.001Z' };
    actor.send({ type: 'FAULT', fault });
    await waitFor(actor, (s) => s.matches('safing'));
    // a second fault and an abort during safing change nothing
    actor.send({ type: 'FAULT', fault: { code: 'AIRLOCK_SIM_DIED', message: 'later' } });
    actor.send({ type: 'ABORT', reason: 'SIGINT' });
    const done = await waitFor(actor, (s) => s.status === 'done');
    expect(stepAborted).toBe(true);
    expect(log).toEqual(['preflight', 'step 0.0', 'safe', 'safe done', 'analyse', 'report']);
    expect(done.context.fault).toEqual(fault);
    expect(done.context.abort).toBeUndefined();
    expect(done.context.windows[0]!.endMs).toBeTypeOf('number');
  });

  it('a FAULT during preflight goes to safing without running a step', async () => {
    const { actor, log } = harness({ steps: [1], stepImpl: async () => {} });
    actor.start();
    actor.send({ type: 'FAULT', fault: { code: 'AIRLOCK_LAB_PART_DIED', message: 'sinkhole exited' } });
    const done = await waitFor(actor, (s) => s.status === 'done');
    expect(log.filter((l) => l.startsWith('step'))).toEqual([]);
    expect(done.context.fault?.code).toBe('AIRLOCK_LAB_PART_DIED');
  });

  it('a preflight that fails keeps what it had found in the record', async () => {
    const { actor } = harness({ steps: [1], preflightFails: true });
    actor.start();
    const record = await toPromise(actor);
    expect(record.preflight?.report?.checks).toEqual(['disk ok']);
    expect(record.phases).toEqual(['NOT_RUN']);
    expect(record.exitCode).toBe(4);
  });
});

describe('run machine output: the finished run record', () => {
  it('a clean run: every step ok, every phase COMPLETED, safing and the judgement recorded, exit 0', async () => {
    const { actor, seen } = harness({ steps: [2, 0, 1] });
    actor.start();
    const record = await toPromise(actor);
    expect(record.steps).toEqual([
      { phase: 0, step: 0, outcome: 'ok' },
      { phase: 0, step: 1, outcome: 'ok' },
      { phase: 2, step: 0, outcome: 'ok' },
    ]);
    expect(record.phases).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(record.fault).toBeUndefined();
    expect(record.abort).toBeUndefined();
    expect(record.complete).toBe(true);
    expect(record.judgement.verdict).toBe('PASS');
    expect(record.exitCode).toBe(0);
    expect(record.preflight).toEqual({ report: { checks: ['disk ok', 'psu answers'] }, capturesStartMs: 1000 });
    expect(record.safing.channelsOff).toEqual(['drone', 'phone']);
    expect(Date.parse(record.safing.startedAt)).not.toBeNaN();
    // the analysis was asked about what preflight and safing returned
    expect(seen.analysis).toMatchObject({ capturesStartMs: 1000, incompletePhases: [], captures: [{ name: 'lab', records: 42 }] });
    expect(record.analysis.captures).toEqual(seen.analysis!.captures);
    // the report hook saw the same record the machine output
    expect(seen.reported?.exitCode).toBe(0);
    expect(seen.reported?.steps).toEqual(record.steps);
  });

  it('an ABORT mid-phase: the step is interrupted, the phase INTERRUPTED, later phases NOT_RUN, exit 3', async () => {
    const { actor, seen } = harness({
      steps: [1, 2, 1],
      stepImpl: (ref, signal) =>
        ref.phase === 1 && ref.step === 1
          ? new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()))
          : Promise.resolve(),
    });
    actor.start();
    await waitFor(actor, (s) => s.matches({ running: 'step' }) && s.context.phase === 1 && s.context.step === 1);
    actor.send({ type: 'ABORT', reason: 'SIGINT' });
    const record = await toPromise(actor);
    expect(record.abort).toEqual({ reason: 'SIGINT' });
    expect(record.fault).toBeUndefined();
    expect(record.phases).toEqual(['COMPLETED', 'INTERRUPTED', 'NOT_RUN']);
    expect(record.steps).toEqual([
      { phase: 0, step: 0, outcome: 'ok' },
      { phase: 1, step: 0, outcome: 'ok' },
      { phase: 1, step: 1, outcome: 'interrupted' },
    ]);
    expect(record.analysis.incompletePhases).toEqual([1, 2]);
    expect(seen.safeInput).toEqual({ abort: { reason: 'SIGINT' } });
    expect(record.complete).toBe(false);
    expect(record.judgement.verdict).toBe('INCONCLUSIVE');
    expect(record.exitCode).toBe(3);
  });

  it('a FAULT: safing recorded with the stamped fault; a FAIL verdict still exits 1', async () => {
    const { actor, seen } = harness({
      steps: [2, 1],
      verdict: 'FAIL',
      stepImpl: (_ref, signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())),
    });
    actor.start();
    await waitFor(actor, (s) => s.matches({ running: 'step' }));
    actor.send({ type: 'FAULT', fault: { code: 'AIRLOCK_SERIAL_LOST', message: 'relay gone', device: 'phone' } });
    const record = await toPromise(actor);
    // safing stamps a fault that came without times: detected (and so occurred) when safing began
    expect(record.fault).toMatchObject({ code: 'AIRLOCK_SERIAL_LOST', device: 'phone', detectedAt: record.safing.startedAt, occurredAt: record.safing.startedAt });
    expect(seen.safeInput?.fault?.code).toBe('AIRLOCK_SERIAL_LOST');
    expect(record.safing).toMatchObject({ channelsOff: ['drone', 'phone'], channelsFailed: [] });
    expect(record.phases).toEqual(['INTERRUPTED', 'NOT_RUN']);
    expect(record.steps).toEqual([{ phase: 0, step: 0, outcome: 'interrupted' }]);
    expect(record.complete).toBe(false);
    expect(record.exitCode).toBe(1);
  });

  it('a channel safing could not switch off is the run\'s fault when it had none (exit 4)', async () => {
    const { actor } = harness({ steps: [1], safeFailChannel: 'phone' });
    actor.start();
    const record = await toPromise(actor);
    expect(record.phases).toEqual(['COMPLETED']);
    expect(record.safing.channelsFailed).toEqual([{ channel: 'phone', error: 'safing: phone off: relay silent' }]);
    expect(record.fault).toMatchObject({ code: 'AIRLOCK_POWER_TIMEOUT', device: 'phone' });
    expect(record.complete).toBe(false);
    expect(record.exitCode).toBe(4);
  });

  it('a step that fails is recorded with its typed failure', async () => {
    const { actor } = harness({ steps: [2], stepImpl: async (ref) => { if (ref.step === 1) throw new StepError('abort', 'wait for heartbeat: timed out'); } });
    actor.start();
    const record = await toPromise(actor);
    expect(record.steps[1]).toMatchObject({ phase: 0, step: 1, outcome: 'failed', failure: { kind: 'abort', reason: 'wait for heartbeat: timed out' } });
    expect(record.abort?.reason).toBe('wait for heartbeat: timed out');
    expect(record.exitCode).toBe(3);
  });
});
