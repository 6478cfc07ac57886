/**
 * What the dashboard knows about one run, built from the run's event stream (the `--json` events,
 * src/orchestrator/run-scenario.ts `RunProgress`, each with its `time`). The same reduction runs in
 * the page (src/dashboard/page/app.js) for the events that arrive after the page loaded; this one
 * gives a page that loads late (hours into a soak) the whole picture in one bounded payload.
 * Events come from a file in a run directory that may be damaged or hostile: fields are checked
 * before they are kept, and every list is bounded.
 */
import { SeriesHistory, type HistoryPayload } from './history.js';

/** One event as `--json` prints it and events.jsonl holds it. */
export type DashboardEvent = { type: string; time?: string } & Record<string, unknown>;

export const LIMITS = { steps: 300, findings: 500, rotated: 100, historyBuckets: 600, historySeries: 64 } as const;

export interface PhaseView {
  name: string;
  status: 'pending' | 'running' | 'ended';
  startedAt?: string;
  endedAt?: string;
  verdict?: string;
  findings?: string[];
}

export interface StepView {
  phase: string;
  index: number;
  total: number;
  text: string;
  timeoutMs: number;
  remainingDwellMs?: number;
  phaseRemainingDwellMs?: number;
  startedAt?: string;
  endedAt?: string;
  ok?: boolean;
}

export interface DashboardSnapshot {
  run?: { runDir: string; runId: string; scenario: string; rig: string; startedAt?: string };
  state?: string;
  phases: PhaseView[];
  /** Index into `phases` of the phase running now (none before the first and after safing starts). */
  current?: number;
  steps: StepView[];
  stepsTotal: number;
  counters?: DashboardEvent;
  findings: DashboardEvent[];
  findingsTotal: number;
  live?: DashboardEvent;
  rotated: DashboardEvent[];
  safing?: { reason: string; at?: string };
  safed?: DashboardEvent;
  done?: DashboardEvent;
  events: number;
  lastEventAt?: string;
  history: HistoryPayload;
}

const str = (v: unknown, max = 2000): string | undefined => (typeof v === 'string' ? v.slice(0, max) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

/** The numbers a `counters` event carries, flattened into named series for the history. */
export function counterSeries(e: DashboardEvent): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  const take = (prefix: string, rec: unknown) => {
    if (!rec || typeof rec !== 'object') return;
    for (const [k, v] of Object.entries(rec as Record<string, unknown>)) out[`${prefix}:${k}`] = num(v) ?? null;
  };
  take('amps', e.amps);
  take('rate', e.rates);
  take('radio', e.radio);
  return out;
}

/** A `finding` event (src/orchestrator/run-scenario.ts) with only its known fields, each bounded. */
function findingView(e: DashboardEvent): DashboardEvent {
  return {
    type: 'finding',
    time: str(e.time, 40),
    live: e.live === true,
    window: str(e.window, 200),
    phase: str(e.phase, 200) ?? null,
    assertion: str(e.assertion, 100),
    text: str(e.text, 2000),
    names: Array.isArray(e.names) ? e.names.slice(0, 20).map((n) => str(n, 300) ?? '') : [],
    capture: str(e.capture, 200),
    file: str(e.file, 300),
    packet: num(e.packet),
    at: str(e.at, 40),
  };
}

export class DashboardState {
  private run: DashboardSnapshot['run'];
  private state: string | undefined;
  private phases: PhaseView[] = [];
  private current: number | undefined;
  private steps: StepView[] = [];
  private stepsTotal = 0;
  private counters: DashboardEvent | undefined;
  private findings: DashboardEvent[] = [];
  private findingsTotal = 0;
  private live: DashboardEvent | undefined;
  private rotated: DashboardEvent[] = [];
  private safing: DashboardSnapshot['safing'];
  private safed: DashboardEvent | undefined;
  private done: DashboardEvent | undefined;
  private events = 0;
  private lastEventAt: string | undefined;
  readonly history = new SeriesHistory(LIMITS.historyBuckets, 1000, LIMITS.historySeries);

  /** Applies one event; unknown types are counted and otherwise ignored (a newer Airlock's events). */
  apply(e: DashboardEvent): void {
    if (!e || typeof e !== 'object' || typeof e.type !== 'string') return;
    this.events++;
    const at = str(e.time, 40);
    if (at) this.lastEventAt = at;
    switch (e.type) {
      case 'start': {
        this.run = { runDir: str(e.runDir) ?? '', runId: str(e.runId, 100) ?? '', scenario: str(e.scenario, 200) ?? '', rig: str(e.rig, 200) ?? '', startedAt: at };
        const names = Array.isArray(e.phases) ? e.phases.slice(0, 1000) : [];
        this.phases = names.map((n) => ({ name: str(n, 200) ?? '?', status: 'pending' }));
        break;
      }
      case 'state':
        this.state = str(e.state, 200);
        break;
      case 'phase': {
        const i = num(e.index);
        if (i === undefined || i < 0 || i >= 1000) break;
        const name = str(e.name, 200) ?? '?';
        while (this.phases.length <= i) this.phases.push({ name: '?', status: 'pending' });
        this.endCurrent(at);
        this.phases[i] = { ...this.phases[i]!, name, status: 'running', startedAt: at };
        this.current = i;
        break;
      }
      case 'step': {
        const step: StepView = {
          phase: str(e.phase, 200) ?? '',
          index: num(e.index) ?? 0,
          total: num(e.total) ?? 0,
          text: str(e.text, 500) ?? '',
          timeoutMs: num(e.timeoutMs) ?? 0,
          remainingDwellMs: num(e.remainingDwellMs),
          phaseRemainingDwellMs: num(e.phaseRemainingDwellMs),
          startedAt: at,
        };
        this.stepsTotal++;
        pushBounded(this.steps, step, LIMITS.steps);
        break;
      }
      case 'step_end': {
        const s = [...this.steps].reverse().find((x) => x.phase === e.phase && x.index === e.index && x.ok === undefined);
        if (s) {
          s.ok = e.ok === true;
          s.endedAt = at;
        }
        break;
      }
      case 'counters':
        this.counters = e;
        this.history.add(at ? Date.parse(at) : Date.now(), counterSeries(e));
        break;
      case 'finding':
        this.findingsTotal++;
        pushBounded(this.findings, findingView(e), LIMITS.findings);
        break;
      case 'live':
        this.live = e;
        break;
      case 'rotated':
        pushBounded(this.rotated, e, LIMITS.rotated);
        break;
      case 'safing':
        this.endCurrent(at);
        this.current = undefined;
        this.safing = { reason: str(e.reason, 1000) ?? '', at };
        break;
      case 'safed':
        this.safed = e;
        break;
      case 'done': {
        this.endCurrent(at);
        this.current = undefined;
        this.done = e;
        const verdicts = Array.isArray(e.phases) ? (e.phases as Array<Record<string, unknown>>) : [];
        for (const v of verdicts.slice(0, 1000)) {
          const p = this.phases.find((x) => x.name === v?.name);
          if (p) {
            p.verdict = str(v.verdict, 40);
            p.findings = Array.isArray(v.findings) ? v.findings.slice(0, 100).map((f) => str(f, 1000) ?? '') : undefined;
          }
        }
        break;
      }
    }
  }

  private endCurrent(at: string | undefined): void {
    if (this.current === undefined) return;
    const p = this.phases[this.current];
    if (p && p.status === 'running') {
      p.status = 'ended';
      p.endedAt = at;
    }
  }

  /** True once the run's final verdict (`done`) has arrived. */
  get finished(): boolean {
    return this.done !== undefined;
  }

  /** The run directory the stream named (start or done event). */
  get runDir(): string | undefined {
    return this.run?.runDir || str(this.done?.runDir);
  }

  snapshot(): DashboardSnapshot {
    return {
      run: this.run,
      state: this.state,
      phases: this.phases.map((p) => ({ ...p })),
      current: this.current,
      steps: this.steps.map((s) => ({ ...s })),
      stepsTotal: this.stepsTotal,
      counters: this.counters,
      findings: this.findings.slice(),
      findingsTotal: this.findingsTotal,
      live: this.live,
      rotated: this.rotated.slice(),
      safing: this.safing,
      safed: this.safed,
      done: this.done,
      events: this.events,
      lastEventAt: this.lastEventAt,
      history: this.history.payload(),
    };
  }
}
