/**
 * The run machine (xstate v5): preflight -> running (phases of steps) -> safing -> analysing
 * -> reporting -> done. Every implementation is named here and provided by the caller with
 * `runMachine.provide(...)` (docs/developer/conventions.md 6): the machine itself does no I/O and never
 * imports a driver. Safing is entered from anywhere on a fault, a step error or an ABORT,
 * and cannot be skipped: ABORT is not handled once safing has begun. A FAULT event comes from
 * the health monitors (power recorder, serial ports, capture and radio children, MAVLink
 * transports, the lab's sinkhole and simulators) as soon as one fails: the machine leaves the
 * step it was running (its actor is stopped, so no further step runs) and goes to safing.
 * The first fault wins; later ones are recorded by the caller in the timeline only.
 */
import { assign, fromPromise, setup } from 'xstate';

export interface StepRef {
  phase: number;
  step: number;
}

export interface RunFault {
  code: string;
  message: string;
  device?: string;
  command?: string;
  /** ISO 8601: when the failure first showed (the unanswered request was sent, the child exited, the port closed). */
  occurredAt?: string;
  /** ISO 8601: when Airlock saw it (the reply timeout expired, the exit was reported). */
  detectedAt?: string;
}

export interface RunContext {
  /** Number of steps in each phase. */
  stepsPerPhase: number[];
  phase: number;
  step: number;
  fault?: RunFault;
  abort?: { reason: string };
  /** Phase index -> [start, end) epoch ms, as the phases actually ran. */
  windows: Array<{ startMs?: number; endMs?: number }>;
}

export type RunEvent = { type: 'ABORT'; reason: string } | { type: 'FAULT'; fault: RunFault };

export interface RunInput {
  stepsPerPhase: number[];
}

/** What a failed step or preflight means for the run. */
export interface StepFailure {
  kind: 'fault' | 'abort';
  fault?: RunFault;
  reason: string;
}

function notProvided<I>(name: string) {
  return fromPromise<void, I>(async () => {
    throw new Error(`run machine: actor "${name}" was not provided`);
  });
}

export const runMachine = setup({
  types: {
    context: {} as RunContext,
    events: {} as RunEvent,
    input: {} as RunInput,
  },
  actors: {
    preflight: notProvided<void>('preflight'),
    runStep: notProvided<StepRef>('runStep'),
    safe: notProvided<void>('safe'),
    analyse: notProvided<void>('analyse'),
    report: notProvided<void>('report'),
  },
  actions: {
    /** Hooks for the timeline and the progress display; provided by the caller. */
    onPhaseStart: (_, _params: { phase: number }) => {},
    onPhaseEnd: (_, _params: { phase: number }) => {},
    onStepStart: (_, _params: StepRef) => {},
    onStepEnd: (_, _params: StepRef & { ok: boolean }) => {},
    onSafing: (_, _params: { fault?: RunFault; abort?: { reason: string } }) => {},
    /** Classifies an error thrown by a step or by preflight (fault vs abort). */
    classify: () => {},
    markPhaseStart: assign({
      windows: ({ context }) =>
        context.windows.map((w, i) => (i === context.phase && w.startMs === undefined ? { startMs: Date.now() } : w)),
    }),
    markPhaseEnd: assign({
      windows: ({ context }) =>
        context.windows.map((w, i) => (i === context.phase ? { ...w, endMs: Date.now() } : w)),
    }),
    nextStep: assign({ step: ({ context }) => context.step + 1 }),
    nextPhase: assign({ phase: ({ context }) => context.phase + 1, step: 0 }),
    recordAbort: assign({
      abort: ({ context, event }) => context.abort ?? { reason: (event as Extract<RunEvent, { type: 'ABORT' }>).reason },
    }),
    recordFault: assign({
      fault: ({ context, event }) => context.fault ?? (event as Extract<RunEvent, { type: 'FAULT' }>).fault,
    }),
    recordFailure: assign(({ context, event }) => {
      const failure = (event as unknown as { error: unknown }).error as StepFailure | undefined;
      if (failure && failure.kind === 'fault') return { fault: context.fault ?? failure.fault };
      return { abort: context.abort ?? { reason: failure?.reason ?? 'step failed' } };
    }),
  },
  guards: {
    moreStepsInPhase: ({ context }) => context.step + 1 < (context.stepsPerPhase[context.phase] ?? 0),
    morePhases: ({ context }) => context.phase + 1 < context.stepsPerPhase.length,
    phaseIsEmpty: ({ context }) => (context.stepsPerPhase[context.phase] ?? 0) === 0,
  },
}).createMachine({
  id: 'run',
  initial: 'preflight',
  context: ({ input }) => ({
    stepsPerPhase: input.stepsPerPhase,
    phase: 0,
    step: 0,
    windows: input.stepsPerPhase.map(() => ({})),
  }),
  states: {
    preflight: {
      invoke: {
        src: 'preflight',
        onDone: 'running',
        onError: { target: 'safing', actions: 'recordFailure' },
      },
      on: {
        ABORT: { target: 'safing', actions: 'recordAbort' },
        FAULT: { target: 'safing', actions: 'recordFault' },
      },
    },
    running: {
      initial: 'phaseStart',
      on: {
        ABORT: { target: 'safing', actions: ['recordAbort', 'markPhaseEnd'] },
        FAULT: { target: 'safing', actions: ['recordFault', 'markPhaseEnd'] },
      },
      states: {
        phaseStart: {
          entry: ['markPhaseStart', { type: 'onPhaseStart', params: ({ context }) => ({ phase: context.phase }) }],
          always: [{ guard: 'phaseIsEmpty', target: 'phaseEnd' }, { target: 'step' }],
        },
        step: {
          entry: { type: 'onStepStart', params: ({ context }) => ({ phase: context.phase, step: context.step }) },
          invoke: {
            src: 'runStep',
            input: ({ context }) => ({ phase: context.phase, step: context.step }),
            onDone: [
              {
                guard: 'moreStepsInPhase',
                target: 'step',
                reenter: true,
                actions: [
                  { type: 'onStepEnd', params: ({ context }) => ({ phase: context.phase, step: context.step, ok: true }) },
                  'nextStep',
                ],
              },
              {
                target: 'phaseEnd',
                actions: { type: 'onStepEnd', params: ({ context }) => ({ phase: context.phase, step: context.step, ok: true }) },
              },
            ],
            onError: {
              target: '#run.safing',
              actions: [
                { type: 'onStepEnd', params: ({ context }) => ({ phase: context.phase, step: context.step, ok: false }) },
                'recordFailure',
                'markPhaseEnd',
              ],
            },
          },
        },
        phaseEnd: {
          entry: ['markPhaseEnd', { type: 'onPhaseEnd', params: ({ context }) => ({ phase: context.phase }) }],
          always: [
            { guard: 'morePhases', target: 'phaseStart', actions: 'nextPhase' },
            { target: '#run.safing' },
          ],
        },
      },
    },
    safing: {
      // No ABORT or FAULT handler: a second Ctrl-C or a later fault must not skip safing.
      entry: { type: 'onSafing', params: ({ context }) => ({ fault: context.fault, abort: context.abort }) },
      invoke: {
        src: 'safe',
        onDone: 'analysing',
        onError: { target: 'analysing', actions: 'recordFailure' },
      },
    },
    analysing: {
      invoke: { src: 'analyse', onDone: 'reporting', onError: 'reporting' },
    },
    reporting: {
      invoke: { src: 'report', onDone: 'done', onError: 'done' },
    },
    done: { type: 'final' },
  },
});
