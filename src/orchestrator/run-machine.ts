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
 *
 * The machine carries the run's results itself: each actor's output (preflight's checks,
 * every step's outcome, what safing switched off and stopped, the judgement) is assigned to
 * its context, and the machine's `output` is the finished run record (RunRecord), which the
 * caller awaits with `toPromise(actor)` and hands to the output writers
 * (src/evidence/outputs/, docs/developer/architecture.md "The run record").
 */
import { assign, fromPromise, setup } from 'xstate';
import type { CanaryFileRecord } from '../verdict/canary-ledger.js';
import type { Judgement } from '../verdict/index.js';
import type { CaptureRecord } from '../verdict/result.js';

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

/** What a failed step or preflight means for the run: the typed error its actor rejects with. */
export interface StepFailure {
  kind: 'fault' | 'abort';
  fault?: RunFault;
  reason: string;
  /** Preflight only: what it had found before it failed (the captures may have started). */
  preflight?: PreflightResult;
}

/** One step as it ended: done, failed (with why), or interrupted by an ABORT or FAULT event. */
export interface StepResult extends StepRef {
  outcome: 'ok' | 'failed' | 'interrupted';
  failure?: StepFailure;
}

/** How far a phase got: every step done, cut short by a fault or abort, or never started. */
export type PhaseOutcome = 'COMPLETED' | 'INTERRUPTED' | 'NOT_RUN';

/** What preflight found (the preflight actor's output). */
export interface PreflightResult {
  /** The rig session's preflight report (checks made, calibration), as result.json records it. */
  report?: { checks: string[]; floorsDbm?: Record<string, number> };
  /** When the captures started (epoch ms): the first judged instant. */
  capturesStartMs?: number;
}

/** The canaries a run sent (their file in the run directory, src/verdict/canary-ledger.ts), with what a verifier needs to recognise them. */
export type CanaryRecord = CanaryFileRecord;

/** What safing did and what the closed rig session gave back (the safe actor's output). */
export interface SafingOutput {
  endedAt: string;
  channelsOff: string[];
  channelsFailed: Array<{ channel: string; error: string }>;
  /** Channels that did not confirm off: each a rig fault (the first becomes the run's fault when it has none). */
  faults: RunFault[];
  /** When the captures were stopped (epoch ms): the last judged instant. */
  capturesEndMs: number;
  captures: CaptureRecord[];
  /** Link statistics per MAVLink link. */
  links: Record<string, unknown>;
  canaries?: CanaryRecord;
}

export interface SafingResult extends SafingOutput {
  startedAt: string;
}

/** What the analyse actor judges (the verdict engine's input, less the rig and scenario). */
export interface AnalysisRequest {
  windows: Array<{ startMs?: number; endMs?: number }>;
  capturesStartMs?: number;
  capturesEndMs: number;
  /** Phases cut short by an abort or a fault, and phases never started. */
  incompletePhases: number[];
  captures: CaptureRecord[];
  canaries?: CanaryRecord;
  floorsDbm?: Record<string, number>;
}

/** The finished run: the machine's output, handed to every output writer. */
export interface RunRecord {
  windows: Array<{ startMs?: number; endMs?: number }>;
  phases: PhaseOutcome[];
  steps: StepResult[];
  /** The first fault: a FAULT event, a failed step or preflight, else a channel safing could not switch off. */
  fault?: RunFault;
  abort?: { reason: string };
  preflight?: PreflightResult;
  safing: SafingResult;
  analysis: AnalysisRequest;
  judgement: Judgement;
  /** Why the analysis gave no judgement (its verdict is then INCONCLUSIVE). */
  analysisError?: string;
  /** False when the run was aborted or faulted. */
  complete: boolean;
  exitCode: number;
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
  steps: StepResult[];
  preflight?: PreflightResult;
  safingStartedAt?: string;
  safing?: SafingOutput;
  judgement?: Judgement;
  analysisError?: string;
}

/** The events the run machine takes: typed, each carrying why the run stops. */
export type RunEvent = { type: 'ABORT'; reason: string } | { type: 'FAULT'; fault: RunFault };

export interface RunInput {
  stepsPerPhase: number[];
}

/** Whatever an actor rejected with, as a StepFailure: a StepFailure as is, anything else an abort. */
export function failureOf(error: unknown): StepFailure {
  const e = error as Partial<StepFailure> | undefined;
  if (e && (e.kind === 'fault' || e.kind === 'abort') && typeof e.reason === 'string') {
    return { kind: e.kind, reason: e.reason, ...(e.fault ? { fault: e.fault } : {}), ...(e.preflight ? { preflight: e.preflight } : {}) };
  }
  return { kind: 'abort', reason: error instanceof Error ? error.message : 'step failed' };
}

/**
 * Exit code of a run (docs/technician/errors-and-exit-codes.md): 1 if FAIL; else 4 if the rig
 * faulted; else 3 if INCONCLUSIVE or aborted; else 0.
 */
export function exitCodeOf(verdict: string, fault: RunFault | undefined, aborted: boolean): number {
  if (verdict === 'FAIL') return 1;
  if (fault) return 4;
  if (verdict === 'INCONCLUSIVE' || aborted) return 3;
  return 0;
}

/** Phases cut short by the fault or abort that stopped the run, and phases never started. */
function incompletePhases(ctx: RunContext): number[] {
  if (!ctx.fault && !ctx.abort) return [];
  return ctx.windows.flatMap((w, i) => (w.startMs === undefined || i >= ctx.phase ? [i] : []));
}

function phaseOutcomes(ctx: RunContext): PhaseOutcome[] {
  const stopped = Boolean(ctx.fault || ctx.abort);
  return ctx.windows.map((w, i) => {
    if (w.startMs === undefined) return 'NOT_RUN';
    return stopped && i >= ctx.phase ? 'INTERRUPTED' : 'COMPLETED';
  });
}

function analysisRequestOf(ctx: RunContext): AnalysisRequest {
  return {
    windows: ctx.windows,
    capturesStartMs: ctx.preflight?.capturesStartMs,
    capturesEndMs: ctx.safing?.capturesEndMs ?? Date.now(),
    incompletePhases: incompletePhases(ctx),
    captures: ctx.safing?.captures ?? [],
    canaries: ctx.safing?.canaries,
    floorsDbm: ctx.preflight?.report?.floorsDbm,
  };
}

/** The finished run record, from the machine's context (pure). */
export function runRecordOf(ctx: RunContext): RunRecord {
  const now = new Date().toISOString();
  const safing: SafingResult = {
    startedAt: ctx.safingStartedAt ?? now,
    ...(ctx.safing ?? { endedAt: now, channelsOff: [], channelsFailed: [], faults: [], capturesEndMs: Date.now(), captures: [], links: {} }),
  };
  // No judgement (the analysis failed) proves nothing: INCONCLUSIVE, never PASS.
  const judgement: Judgement = ctx.judgement ?? { phases: [], runAssertions: [], coverage: [], verdict: 'INCONCLUSIVE', findings: [] };
  const fault = ctx.fault ?? safing.faults[0];
  return {
    windows: ctx.windows,
    phases: phaseOutcomes(ctx),
    steps: ctx.steps,
    ...(fault ? { fault } : {}),
    ...(ctx.abort ? { abort: ctx.abort } : {}),
    ...(ctx.preflight ? { preflight: ctx.preflight } : {}),
    safing,
    analysis: analysisRequestOf(ctx),
    judgement,
    ...(ctx.analysisError ? { analysisError: ctx.analysisError } : {}),
    complete: !fault && !ctx.abort,
    exitCode: exitCodeOf(judgement.verdict, fault, Boolean(ctx.abort)),
  };
}

function notProvided<I, O = void>(name: string) {
  return fromPromise<O, I>(async () => {
    throw new Error(`run machine: actor "${name}" was not provided`);
  });
}

export const runMachine = setup({
  types: {
    context: {} as RunContext,
    events: {} as RunEvent,
    input: {} as RunInput,
    output: {} as RunRecord,
  },
  actors: {
    preflight: notProvided<void, PreflightResult>('preflight'),
    runStep: notProvided<StepRef>('runStep'),
    safe: notProvided<{ fault?: RunFault; abort?: { reason: string } }, SafingOutput>('safe'),
    analyse: notProvided<AnalysisRequest, Judgement>('analyse'),
    /** The finished record, before the machine is done (the caller may note it; it writes nothing). */
    report: notProvided<RunRecord>('report'),
  },
  actions: {
    /** Hooks for the timeline and the progress display; provided by the caller. */
    onPhaseStart: (_, _params: { phase: number }) => {},
    onPhaseEnd: (_, _params: { phase: number }) => {},
    onStepStart: (_, _params: StepRef) => {},
    onStepEnd: (_, _params: StepRef & { ok: boolean }) => {},
    onSafing: (_, _params: { fault?: RunFault; abort?: { reason: string } }) => {},
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
      abort: ({ context, event }) => context.abort ?? (event.type === 'ABORT' ? { reason: event.reason } : undefined),
    }),
    recordFault: assign({
      fault: ({ context, event }) => context.fault ?? (event.type === 'FAULT' ? event.fault : undefined),
    }),
    /** The step running when an ABORT or FAULT came: its actor is stopped. */
    recordInterrupted: assign({
      steps: ({ context }) => [...context.steps, { phase: context.phase, step: context.step, outcome: 'interrupted' as const }],
    }),
    /** Safing begins now: a fault without times was detected (and, as far as we know, happened) now. */
    stampSafing: assign(({ context }) => {
      const at = new Date().toISOString();
      const f = context.fault;
      return {
        safingStartedAt: at,
        ...(f ? { fault: { ...f, detectedAt: f.detectedAt ?? at, occurredAt: f.occurredAt ?? f.detectedAt ?? at } } : {}),
      };
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
    steps: [],
  }),
  output: ({ context }) => runRecordOf(context),
  states: {
    preflight: {
      invoke: {
        src: 'preflight',
        onDone: { target: 'running', actions: assign({ preflight: ({ event }) => event.output }) },
        onError: {
          target: 'safing',
          actions: assign(({ context, event }) => {
            const failure = failureOf(event.error);
            const found = failure.preflight ? { preflight: failure.preflight } : {};
            return failure.kind === 'fault' && failure.fault
              ? { ...found, fault: context.fault ?? failure.fault }
              : { ...found, abort: context.abort ?? { reason: failure.reason } };
          }),
        },
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
          on: {
            ABORT: { target: '#run.safing', actions: ['recordAbort', 'recordInterrupted', 'markPhaseEnd'] },
            FAULT: { target: '#run.safing', actions: ['recordFault', 'recordInterrupted', 'markPhaseEnd'] },
          },
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
                  assign({ steps: ({ context }) => [...context.steps, { phase: context.phase, step: context.step, outcome: 'ok' as const }] }),
                  'nextStep',
                ],
              },
              {
                target: 'phaseEnd',
                actions: [
                  { type: 'onStepEnd', params: ({ context }) => ({ phase: context.phase, step: context.step, ok: true }) },
                  assign({ steps: ({ context }) => [...context.steps, { phase: context.phase, step: context.step, outcome: 'ok' as const }] }),
                ],
              },
            ],
            onError: {
              target: '#run.safing',
              actions: [
                { type: 'onStepEnd', params: ({ context }) => ({ phase: context.phase, step: context.step, ok: false }) },
                assign(({ context, event }) => {
                  const failure = failureOf(event.error);
                  const steps = [...context.steps, { phase: context.phase, step: context.step, outcome: 'failed' as const, failure }];
                  return failure.kind === 'fault' && failure.fault
                    ? { steps, fault: context.fault ?? failure.fault }
                    : { steps, abort: context.abort ?? { reason: failure.reason } };
                }),
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
      entry: ['stampSafing', { type: 'onSafing', params: ({ context }) => ({ fault: context.fault, abort: context.abort }) }],
      invoke: {
        src: 'safe',
        input: ({ context }) => ({ fault: context.fault, abort: context.abort }),
        onDone: { target: 'analysing', actions: assign({ safing: ({ event }) => event.output }) },
        // The safe actor never rejects (it records what failed); if it did, the run is not complete.
        onError: {
          target: 'analysing',
          actions: assign(({ context, event }) => {
            const failure = failureOf(event.error);
            return failure.kind === 'fault' && failure.fault ? { fault: context.fault ?? failure.fault } : { abort: context.abort ?? { reason: `safing: ${failure.reason}` } };
          }),
        },
      },
    },
    analysing: {
      invoke: {
        src: 'analyse',
        input: ({ context }) => analysisRequestOf(context),
        onDone: { target: 'reporting', actions: assign({ judgement: ({ event }) => event.output }) },
        // No judgement: the record's verdict is INCONCLUSIVE (runRecordOf), and says why.
        onError: { target: 'reporting', actions: assign({ analysisError: ({ event }) => failureOf(event.error).reason }) },
      },
    },
    reporting: {
      invoke: { src: 'report', input: ({ context }) => runRecordOf(context), onDone: 'done', onError: 'done' },
    },
    done: { type: 'final' },
  },
});
