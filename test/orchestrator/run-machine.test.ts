/**
 * The run machine with fake actors (no rig): the order of states, safing on every path, and
 * that a second abort during safing does not skip it.
 */
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, waitFor } from 'xstate';
import { runMachine, type StepRef } from '../../src/orchestrator/run-machine.js';
import { StepError } from '../../src/orchestrator/steps.js';

function harness(opts: { steps: number[]; stepImpl?: (ref: StepRef, signal: AbortSignal) => Promise<void>; safeMs?: number; preflightFails?: boolean }) {
  const log: string[] = [];
  let releaseSafe: () => void = () => {};
  const machine = runMachine.provide({
    actors: {
      preflight: fromPromise(async () => {
        log.push('preflight');
        if (opts.preflightFails) throw new StepError('fault', 'psu silent', { code: 'AIRLOCK_POWER_TIMEOUT', message: 'psu silent', device: 'drone', command: 'OUTP?' });
      }),
      runStep: fromPromise<void, StepRef>(async ({ input, signal }) => {
        log.push(`step ${input.phase}.${input.step}`);
        await (opts.stepImpl ?? (async () => {}))(input, signal);
      }),
      safe: fromPromise(async () => {
        log.push('safe');
        await new Promise<void>((resolve) => {
          releaseSafe = resolve;
          if (!opts.safeMs) resolve();
          else setTimeout(resolve, opts.safeMs);
        });
        log.push('safe done');
      }),
      analyse: fromPromise(async () => {
        log.push('analyse');
      }),
      report: fromPromise(async () => {
        log.push('report');
      }),
    },
  });
  const actor = createActor(machine, { input: { stepsPerPhase: opts.steps } });
  return { actor, log, releaseSafe: () => releaseSafe() };
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
});
