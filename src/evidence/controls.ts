/**
 * The control mapping: which controls a certifier checks each assertion kind gives evidence for
 * (src/evidence/controls.json, validated by schema/controls.schema.json), and the "Controls"
 * section of the reports: per control, the assertions and phases that bear on it, their verdicts,
 * the evidence, and what was observed, in the mapping's own words. A lab extends the mapping or
 * replaces it with its own file (`--controls FILE`, `mode: extend | replace`).
 *
 * The wording says what was tested and observed during which phases; it never says that a product
 * complies with a control (the schema refuses such texts). docs/certifier/controls.md explains it.
 */
import shipped from './controls.json' with { type: 'json' };
import * as fs from 'node:fs';
import { CONFIG_CODES, ConfigError, loadConfigSource, schemaIssues, schemaPath, type ConfigIssue } from '../config/index.js';
import { didYouMean } from '../config/schema.js';
import { PosIndex } from '../config/source.js';
import type { Finding } from '../analysis/finding.js';
import { findingPointer } from './finding-text.js';
import type { RunResult } from './result.js';

export const SHIPPED_CONTROLS = 'src/evidence/controls.json';

export type ObservedVerdict = 'PASS' | 'FAIL' | 'INCONCLUSIVE';

export interface ControlDocument {
  document: string;
  section: string;
  url?: string;
}

export interface ControlEntry {
  id: string;
  framework: string;
  title: string;
  source: ControlDocument;
  references?: ControlDocument[];
  kinds: string[];
  scope?: string;
  observed: Record<ObservedVerdict, string>;
}

export interface ControlsMapping {
  controls: ControlEntry[];
  /** Where the entries came from: the shipped file, then the lab's (extend), or the lab's alone (replace). */
  origin: string[];
}

interface MappingFile {
  mode?: 'extend' | 'replace';
  controls: ControlEntry[];
}

const keyOf = (c: ControlEntry): string => `${c.framework} ${c.id}`;

/** The run-wide egress policy the verdict engine judges in every window (src/verdict/rules.ts). */
const RUN_WIDE_KINDS = ['egress_policy'];
let knownKinds: string[] | undefined;

/**
 * The assertion kinds a run can carry: those a scenario may write (schema/scenario.schema.json,
 * `assert` items) and the run-wide egress policy. A mapping naming any other kind would leave its
 * control "not tested" in every run, silently, so it is refused.
 */
export function assertionKinds(): string[] {
  knownKinds ??= [
    ...RUN_WIDE_KINDS,
    ...Object.keys(
      (JSON.parse(fs.readFileSync(schemaPath('scenario'), 'utf8')) as { properties: { assert: { items: { properties: object } } } }).properties.assert.items
        .properties,
    ),
  ];
  return knownKinds;
}

function checkMapping(data: unknown, index: PosIndex, file: string): MappingFile {
  const issues: ConfigIssue[] = schemaIssues('controls', data, index);
  if (!issues.length) {
    const seen = new Map<string, number>();
    (data as MappingFile).controls.forEach((c, i) => {
      const k = keyOf(c);
      const first = seen.get(k);
      if (first !== undefined) {
        const p = index.at(['controls', i, 'id']);
        issues.push({ file, line: p.line, col: p.col, path: `controls[${i}].id`, message: `"${c.id}" of ${c.framework} is already mapped by controls[${first}]` });
      } else seen.set(k, i);
      const known = assertionKinds();
      c.kinds.forEach((kind, j) => {
        if (known.includes(kind)) return;
        const p = index.at(['controls', i, 'kinds', j]);
        issues.push({ file, line: p.line, col: p.col, path: `controls[${i}].kinds[${j}]`, message: `unknown assertion kind "${kind}" (${didYouMean(kind, known)}expected one of: ${known.join(', ')})` });
      });
    });
  }
  if (issues.length) throw new ConfigError(CONFIG_CODES.invalid, issues);
  return data as MappingFile;
}

/** Checks a lab's mapping file (JSON or YAML): ConfigError with file:line:col for every problem. */
export function readControlsFile(file: string): { mode: 'extend' | 'replace'; controls: ControlEntry[] } {
  const src = loadConfigSource(file);
  const m = checkMapping(src.data, src.index, file);
  return { mode: m.mode ?? 'extend', controls: m.controls };
}

let shippedMapping: ControlEntry[] | undefined;

/** The shipped mapping, checked against the schema like any lab's. */
export function shippedControls(): ControlEntry[] {
  shippedMapping ??= checkMapping(shipped, new PosIndex(SHIPPED_CONTROLS), SHIPPED_CONTROLS).controls;
  return shippedMapping;
}

/**
 * The mapping in effect: the shipped one, extended by the lab's file (an entry with the same
 * framework and id replaces the shipped one, in place; new ones follow), or replaced by it.
 */
export function loadControlsMapping(labFile?: string): ControlsMapping {
  const base = shippedControls();
  if (!labFile) return { controls: base, origin: [SHIPPED_CONTROLS] };
  const lab = readControlsFile(labFile);
  if (lab.mode === 'replace') return { controls: lab.controls, origin: [labFile] };
  const labByKey = new Map(lab.controls.map((c) => [keyOf(c), c]));
  const merged = base.map((c) => labByKey.get(keyOf(c)) ?? c);
  const baseKeys = new Set(base.map(keyOf));
  for (const c of lab.controls) if (!baseKeys.has(keyOf(c))) merged.push(c);
  return { controls: merged, origin: [SHIPPED_CONTROLS, labFile] };
}

export interface ControlEvidence {
  /** The phase's name, "(whole run)" for a run-wide assertion, or "(<window>)" for a window outside the phases (preflight, a gap, safing). */
  phase: string;
  kind: string;
  verdict: string;
  reason?: string;
  /** Each finding's pointer into the raw file (`net-drone.pcap#6`) and its number in the findings table. */
  findings: { n: number; pointer: string; time: string; summary: string }[];
}

export interface ControlObservation {
  control: ControlEntry;
  /** FAIL if any bearing assertion failed; else INCONCLUSIVE if any was not PASS; else PASS; NOT_TESTED without one. */
  status: ObservedVerdict | 'NOT_TESTED';
  /** One statement per verdict that occurred, with the phases it covers, FAIL first. */
  statements: { verdict: ObservedVerdict; text: string; phases: string[] }[];
  evidence: ControlEvidence[];
}

export interface ControlsSection {
  controls: ControlObservation[];
  /** Assertion kinds of this run that no control maps. */
  unmapped: string[];
  origin: string[];
}

export const NOT_TESTED_TEXT = 'No assertion of this run bears on this control: nothing was observed for it.';

const RANK: Record<ObservedVerdict, number> = { PASS: 0, INCONCLUSIVE: 1, FAIL: 2 };

/** A verdict for the controls' purposes: PASS stays PASS, FAIL stays FAIL, anything else (INCONCLUSIVE, NOT_RUN...) is INCONCLUSIVE. */
function observedVerdict(v: string): ObservedVerdict {
  return v === 'PASS' ? 'PASS' : v === 'FAIL' ? 'FAIL' : 'INCONCLUSIVE';
}

/**
 * The Controls section of a run. Findings are numbered as in the reports' findings tables: phase by
 * phase, assertion by assertion, then the run-wide assertions, then the windows outside the phases
 * (preflight, gaps, safing).
 */
export function observeControls(r: RunResult, mapping: ControlsMapping): ControlsSection {
  const all: ControlEvidence[] = [];
  let n = 0;
  const add = (phase: string, a: RunResult['runAssertions'][number]): void => {
    all.push({
      phase,
      kind: a.kind,
      verdict: a.verdict,
      reason: a.reason,
      findings: a.findings.map((f: Finding) => ({ n: ++n, pointer: findingPointer(f), time: f.time, summary: f.summary })),
    });
  };
  for (const p of r.phases) for (const a of p.assertions) add(p.name, a);
  for (const a of r.runAssertions) add('(whole run)', a);
  // The windows outside the phases (preflight, gaps, safing), judged by the run-wide egress policy:
  // a leak there bears on the boundary controls too. Numbered after the rest, as in the reports.
  for (const c of r.coverage ?? []) if (c.kind !== 'phase') for (const a of c.assertions) add(`(${c.name})`, a);

  const mapped = new Set(mapping.controls.flatMap((c) => c.kinds));
  const unmapped = [...new Set(all.map((e) => e.kind).filter((k) => !mapped.has(k)))];
  const controls = mapping.controls.map((control): ControlObservation => {
    const evidence = all.filter((e) => control.kinds.includes(e.kind));
    const statements: ControlObservation['statements'] = [];
    // A phase counts once per control, at the worst verdict of the assertions that bear on it: a
    // phase with a leak is never also listed under "nothing was observed".
    const byPhase = new Map<string, ObservedVerdict>();
    for (const e of evidence) {
      const v = observedVerdict(e.verdict);
      const was = byPhase.get(e.phase);
      if (was === undefined || RANK[v] > RANK[was]) byPhase.set(e.phase, v);
    }
    for (const verdict of ['FAIL', 'INCONCLUSIVE', 'PASS'] as const) {
      const phases = [...byPhase].filter(([, v]) => v === verdict).map(([p]) => p);
      if (phases.length) statements.push({ verdict, text: control.observed[verdict], phases });
    }
    const status = evidence.length === 0 ? 'NOT_TESTED' : statements[0]!.verdict;
    return { control, status, statements, evidence };
  });
  return { controls, unmapped, origin: mapping.origin };
}
