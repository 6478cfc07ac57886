/**
 * Behaviour comparison: what run or suite B does that A did not, per scenario and phase, and
 * what disappeared. Runs are matched by scenario name, phases by name; behaviour comes from the
 * raw files (behaviour.ts). B "has news" (exit 1) when it has a network finding A did not have,
 * a new outside destination, a new radio band above the floor, or a standby current that rose
 * by more than the threshold; other differences (a new lab DNS name, a new MAVLink message or
 * rate, a new port) are reported but do not fail the comparison.
 */
import type { BehaviourItem, PhaseBehaviour, RunBehaviour } from './behaviour.js';
import { runBehaviour } from './behaviour.js';
import { loadRunSet, type LoadedRun } from './run-set.js';

export const DEFAULT_CURRENT_THRESHOLD_A = 0.02;
/** A MAVLink message rate counts as changed when it more than doubles (or halves). */
export const MAVLINK_RATE_FACTOR = 2;

export type ChangeKind =
  | 'outsideDestinations'
  | 'dnsNames'
  | 'tlsNames'
  | 'services'
  | 'findings'
  | 'mavlink'
  | 'radioBands'
  | 'current';

export const CHANGE_KINDS: ChangeKind[] = ['findings', 'outsideDestinations', 'dnsNames', 'tlsNames', 'services', 'mavlink', 'radioBands', 'current'];

/** Kinds whose appearance in B makes the comparison fail (exit 1). */
const SIGNIFICANT: ReadonlySet<ChangeKind> = new Set(['findings', 'outsideDestinations', 'radioBands', 'current']);

export interface ChangeItem extends BehaviourItem {
  kind: ChangeKind;
  /** True when this change alone makes the comparison exit 1. */
  significant: boolean;
}

export interface PhaseComparison {
  phase: string;
  inA: boolean;
  inB: boolean;
  added: ChangeItem[];
  removed: ChangeItem[];
}

export interface ScenarioComparison {
  scenario: string;
  inA: boolean;
  inB: boolean;
  verdictA?: string;
  verdictB?: string;
  runA?: string;
  runB?: string;
  phases: PhaseComparison[];
}

export interface Comparison {
  a: string;
  b: string;
  currentThresholdA: number;
  scenarios: ScenarioComparison[];
  notes: string[];
  /** Autopilots whose identity (AUTOPILOT_VERSION: version, git hash, board) differs between A and B. */
  autopilotChanges: { scenario: string; link: string; a: string; b: string }[];
  totals: { added: number; removed: number; newFindings: number; newOutsideDestinations: number; significant: number };
  exitCode: 0 | 1;
}

export interface CompareOptions {
  currentThresholdA?: number;
}

const LABEL: Record<ChangeKind, string> = {
  findings: 'finding',
  outsideDestinations: 'outside destination',
  dnsNames: 'DNS name',
  tlsNames: 'TLS server name',
  services: 'port/protocol',
  mavlink: 'MAVLink',
  radioBands: 'radio band above floor',
  current: 'current',
};

function diffSets(kind: ChangeKind, a: Map<string, BehaviourItem>, b: Map<string, BehaviourItem>, added: ChangeItem[], removed: ChangeItem[]): void {
  for (const [k, item] of b) if (!a.has(k)) added.push({ ...pick(item), kind, significant: SIGNIFICANT.has(kind) });
  for (const [k, item] of a) if (!b.has(k)) removed.push({ ...pick(item), kind, significant: false });
}

function pick(i: BehaviourItem): BehaviourItem {
  const out: BehaviourItem = { key: i.key, detail: i.detail };
  if (i.file !== undefined) out.file = i.file;
  if (i.packet !== undefined) out.packet = i.packet;
  if (i.line !== undefined) out.line = i.line;
  if (i.time !== undefined) out.time = i.time;
  return out;
}

function comparePhase(name: string, a: PhaseBehaviour | undefined, b: PhaseBehaviour | undefined, thresholdA: number): PhaseComparison {
  const added: ChangeItem[] = [];
  const removed: ChangeItem[] = [];
  const empty = new Map<string, BehaviourItem>();
  const sets = ['findings', 'outsideDestinations', 'dnsNames', 'tlsNames', 'services'] as const;
  for (const k of sets) diffSets(k, a?.[k] ?? empty, b?.[k] ?? empty, added, removed);
  diffSets('radioBands', a?.radioBands ?? empty, b?.radioBands ?? empty, added, removed);
  // MAVLink: new and vanished message types, and rates that changed by more than the factor.
  const ma = a?.mavlink ?? new Map();
  const mb = b?.mavlink ?? new Map();
  for (const [k, r] of mb) {
    const old = ma.get(k);
    if (!old) {
      added.push({ kind: 'mavlink', significant: false, key: k, detail: `new message ${r.message} on ${r.link}: ${r.count} (${r.perSecond.toFixed(2)}/s)`, file: r.file });
    } else if (r.perSecond > MAVLINK_RATE_FACTOR * old.perSecond) {
      added.push({ kind: 'mavlink', significant: false, key: `${k} rate`, detail: `${r.message} on ${r.link}: ${old.perSecond.toFixed(2)}/s -> ${r.perSecond.toFixed(2)}/s`, file: r.file });
    } else if (old.perSecond > MAVLINK_RATE_FACTOR * r.perSecond) {
      removed.push({ kind: 'mavlink', significant: false, key: `${k} rate`, detail: `${r.message} on ${r.link}: ${old.perSecond.toFixed(2)}/s -> ${r.perSecond.toFixed(2)}/s`, file: r.file });
    }
  }
  for (const [k, r] of ma) {
    if (!mb.has(k)) removed.push({ kind: 'mavlink', significant: false, key: k, detail: `message ${r.message} on ${r.link} no longer sent (was ${r.count}, ${r.perSecond.toFixed(2)}/s)`, file: r.file });
  }
  // Current: a mean that rose (or fell) by more than the threshold.
  const ca = a?.current ?? new Map();
  const cb = b?.current ?? new Map();
  for (const [ch, cur] of cb) {
    const old = ca.get(ch);
    if (!old) continue;
    const delta = cur.meanA - old.meanA;
    if (Math.abs(delta) <= thresholdA) continue;
    const standby = cur.standby || old.standby;
    const item: ChangeItem = {
      kind: 'current',
      significant: delta > 0 && standby,
      key: ch,
      detail: `${standby ? 'standby ' : ''}current on ${ch}: mean ${(old.meanA * 1000).toFixed(1)} mA -> ${(cur.meanA * 1000).toFixed(1)} mA (${delta > 0 ? '+' : ''}${(delta * 1000).toFixed(1)} mA, threshold ${(thresholdA * 1000).toFixed(0)} mA)`,
      file: cur.file,
    };
    (delta > 0 ? added : removed).push(delta > 0 ? item : { ...item, significant: false });
  }
  return { phase: name, inA: a !== undefined, inB: b !== undefined, added, removed };
}

function compareRuns(key: string, a: RunBehaviour | undefined, b: RunBehaviour | undefined, ra: LoadedRun | undefined, rb: LoadedRun | undefined, thresholdA: number): ScenarioComparison {
  const names: string[] = [];
  for (const p of [...(a?.phases ?? []), ...(b?.phases ?? [])]) if (!names.includes(p.phase)) names.push(p.phase);
  const out: ScenarioComparison = {
    scenario: key,
    inA: a !== undefined,
    inB: b !== undefined,
    phases: names.map((n) => comparePhase(n, a?.phases.find((p) => p.phase === n), b?.phases.find((p) => p.phase === n), thresholdA)),
  };
  if (ra) {
    out.verdictA = ra.result.verdict;
    out.runA = ra.dir;
  }
  if (rb) {
    out.verdictB = rb.result.verdict;
    out.runB = rb.dir;
  }
  return out;
}

/** Compares two run or suite directories. Throws RegressionInputError (exit 2) on bad input. */
export async function compareDirs(aDir: string, bDir: string, opts: CompareOptions = {}): Promise<Comparison> {
  const thresholdA = opts.currentThresholdA ?? DEFAULT_CURRENT_THRESHOLD_A;
  const A = loadRunSet(aDir);
  const B = loadRunSet(bDir);
  const keys: string[] = [];
  for (const r of [...A.runs, ...B.runs]) if (!keys.includes(r.key)) keys.push(r.key);
  const notes: string[] = [];
  const autopilotChanges: Comparison['autopilotChanges'] = [];
  const scenarios: ScenarioComparison[] = [];
  for (const key of keys) {
    const ra = A.runs.find((r) => r.key === key);
    const rb = B.runs.find((r) => r.key === key);
    const ba = ra ? await runBehaviour(ra) : undefined;
    const bb = rb ? await runBehaviour(rb) : undefined;
    for (const n of [...(ba?.notes ?? []), ...(bb?.notes ?? [])]) if (!notes.includes(n)) notes.push(n);
    if (!ra) notes.push(`${key}: only in B (everything it does counts as new)`);
    if (!rb) notes.push(`${key}: only in A (not run in B)`);
    scenarios.push(compareRuns(key, ba, bb, ra, rb, thresholdA));
    if (ra && rb) {
      for (const link of new Set([...Object.keys(ra.result.links ?? {}), ...Object.keys(rb.result.links ?? {})])) {
        const ia = autopilotText(ra.result.links?.[link]);
        const ib = autopilotText(rb.result.links?.[link]);
        if (ia !== ib) {
          autopilotChanges.push({ scenario: key, link, a: ia, b: ib });
          notes.push(`${key}: the autopilot on link ${link} changed: ${ia} -> ${ib}`);
        }
      }
    }
  }
  const all = scenarios.flatMap((s) => s.phases);
  const added = all.flatMap((p) => p.added);
  const totals = {
    added: added.length,
    removed: all.reduce((n, p) => n + p.removed.length, 0),
    newFindings: added.filter((c) => c.kind === 'findings').length,
    newOutsideDestinations: added.filter((c) => c.kind === 'outsideDestinations').length,
    significant: added.filter((c) => c.significant).length,
  };
  return { a: A.dir, b: B.dir, currentThresholdA: thresholdA, scenarios, notes, autopilotChanges, totals, exitCode: totals.significant > 0 ? 1 : 0 };
}

/** "ARDUPILOTMEGA QUADROTOR 4.5.7 official, git 2a3dc4b7, board 0" from a run's link record. */
export function autopilotText(link: unknown): string {
  const id = (link as { identity?: Record<string, unknown> } | undefined)?.identity;
  if (!id) return 'not recorded';
  if (id.flightSwVersion === undefined) return `${id.autopilot ?? '?'} ${id.vehicleType ?? ''} (${id.source ?? 'no AUTOPILOT_VERSION'})`.replace(/\s+/g, ' ');
  return `${id.autopilot} ${id.vehicleType} ${id.flightSwVersion} ${id.releaseType}, git ${id.gitHash}, board ${id.boardVersion}`;
}

function evidence(c: ChangeItem): string {
  const at = c.packet !== undefined ? `#${c.packet}` : c.line !== undefined ? `line ${c.line}` : '';
  return c.file ? ` — \`${c.file}\`${at ? ` ${at}` : ''}${c.time ? ` at ${c.time}` : ''}` : '';
}

/** The comparison as Markdown (for a person, a CI job's published report). */
export function comparisonMarkdown(c: Comparison): string {
  const out: string[] = [];
  out.push(`# Behaviour comparison: ${c.exitCode === 1 ? 'B does something new' : 'nothing new in B'}`, '');
  out.push(`- A (reference): \`${c.a}\``, `- B (under test): \`${c.b}\``);
  out.push(
    `- ${c.totals.added} new in B (${c.totals.newFindings} findings, ${c.totals.newOutsideDestinations} outside destinations, ${c.totals.significant} that fail the comparison), ${c.totals.removed} gone`,
    '',
  );
  for (const s of c.scenarios) {
    const changed = s.phases.some((p) => p.added.length || p.removed.length);
    out.push(`## ${s.scenario}: ${s.verdictA ?? 'not run'} -> ${s.verdictB ?? 'not run'}${!s.inA ? ' (only in B)' : !s.inB ? ' (only in A)' : ''}`, '');
    if (!changed) {
      out.push('No difference in behaviour.', '');
      continue;
    }
    for (const p of s.phases) {
      if (!p.added.length && !p.removed.length) continue;
      out.push(`### phase ${p.phase}${!p.inA ? ' (only in B; NOT_RUN or absent in A)' : !p.inB ? ' (only in A; NOT_RUN or absent in B)' : ''}`, '');
      if (p.added.length) {
        out.push('New in B:', '');
        for (const ch of p.added) out.push(`- ${ch.significant ? '**' : ''}${LABEL[ch.kind]}${ch.significant ? '**' : ''}: ${ch.detail}${evidence(ch)}`);
        out.push('');
      }
      if (p.removed.length) {
        out.push('Gone in B:', '');
        for (const ch of p.removed) out.push(`- ${LABEL[ch.kind]}: ${ch.detail}${evidence(ch)}`);
        out.push('');
      }
    }
  }
  if (c.notes.length) {
    out.push('## Notes', '');
    for (const n of c.notes) out.push(`- ${n}`);
    out.push('');
  }
  return out.join('\n');
}
