/**
 * JUnit XML as Jenkins (junit plugin) and GitLab (unit test reports) read it: <testsuites> of
 * <testsuite name tests failures errors skipped time timestamp>, each of <testcase name classname
 * time> with at most one of <failure message type>, <error message type> or <skipped message>.
 * docs/ci/regression.md: FAIL is <failure>, INCONCLUSIVE is <error>, not run is <skipped>; GitLab keeps only
 * the first of duplicate names, so names are made unique. The XML itself is written by xmlbuilder2.
 */
import type { Finding } from '../analysis/finding.js';
import { findingLine } from './finding-text.js';
import type { AssertionResult, PhaseResult, RunResult } from './result.js';
import { create } from 'xmlbuilder2';

type Outcome = { type: 'pass' } | { type: 'failure' | 'error' | 'skipped'; message: string; body?: string };

interface Case {
  name: string;
  classname: string;
  time: number;
  outcome: Outcome;
}

interface Suite {
  name: string;
  timestamp?: string;
  time: number;
  cases: Case[];
}

export interface SuiteItem {
  name: string;
  result?: RunResult;
  /** Why the scenario did not run (a rig fault earlier in the suite, a missing file...). */
  skippedReason?: string;
}

function seconds(startIso?: string, endIso?: string): number {
  const a = startIso ? Date.parse(startIso) : NaN;
  const b = endIso ? Date.parse(endIso) : NaN;
  return Number.isFinite(a) && Number.isFinite(b) && b >= a ? (b - a) / 1000 : 0;
}

function findingsBody(findings: Finding[], reason?: string): string {
  const lines = findings.map((f) => findingLine(f));
  if (reason) lines.unshift(reason);
  return lines.join('\n');
}

function outcomeOf(a: AssertionResult, phase: PhaseResult | undefined, run: RunResult): Outcome {
  const notRun = a.verdict === 'NOT_RUN' || (phase !== undefined && (phase.verdict === 'NOT_RUN' || (phase.startedAt === undefined && phase.incomplete)));
  if (notRun && a.verdict !== 'FAIL') {
    const why = run.abort?.reason ?? run.fault?.message ?? 'the run ended before it';
    return { type: 'skipped', message: `${phase ? `phase "${phase.name}"` : a.kind} did not run: ${why}` };
  }
  if (a.verdict === 'PASS') return { type: 'pass' };
  if (a.verdict === 'FAIL') {
    const n = a.findings.length;
    const first = a.findings[0];
    const message = n ? `${n} finding${n > 1 ? 's' : ''}: ${first!.summary}${n > 1 ? ' ...' : ''}` : (a.reason ?? 'assertion failed');
    return { type: 'failure', message, body: findingsBody(a.findings, n ? a.reason : undefined) };
  }
  return { type: 'error', message: `INCONCLUSIVE: ${a.reason ?? 'the assertion could not be decided'}`, body: findingsBody(a.findings, a.reason) };
}

function suiteOf(result: RunResult, label = result.scenario): Suite {
  const cases: Case[] = [];
  const seen = new Map<string, number>();
  const unique = (name: string): string => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name} #${n}`;
  };
  for (const p of result.phases) {
    const t = seconds(p.startedAt, p.endedAt);
    for (const a of p.assertions) {
      cases.push({ name: unique(`${p.name}: ${a.kind}`), classname: label, time: t, outcome: outcomeOf(a, p, result) });
    }
  }
  // Windows outside the phases (preflight, gaps, safing), judged by the run-wide egress policy.
  for (const c of result.coverage ?? []) {
    if (c.kind === 'phase') continue;
    for (const a of c.assertions) cases.push({ name: unique(`${c.name}: ${a.kind}`), classname: label, time: seconds(c.from, c.to), outcome: outcomeOf(a, undefined, result) });
  }
  for (const a of result.runAssertions) {
    cases.push({ name: unique(`run: ${a.kind}`), classname: label, time: seconds(result.startedAt, result.endedAt), outcome: outcomeOf(a, undefined, result) });
  }
  if (result.fault) {
    const f = result.fault;
    cases.push({
      name: unique('run: rig'),
      classname: label,
      time: 0,
      outcome: { type: 'error', message: `rig fault ${f.code}: ${f.message}`, body: [f.device && `device ${f.device}`, f.command && `command ${f.command}`].filter(Boolean).join('\n') },
    });
  } else if (result.abort && !cases.some((c) => c.outcome.type !== 'pass')) {
    cases.push({ name: unique('run: complete'), classname: label, time: 0, outcome: { type: 'error', message: `run aborted: ${result.abort.reason}` } });
  }
  return { name: label, timestamp: result.startedAt, time: seconds(result.startedAt, result.endedAt), cases };
}

function fmtTime(s: number): string {
  return s.toFixed(3);
}

/** JUnit's timestamp attribute is an ISO 8601 date-time without a zone (the Ant schema's form); the zone is UTC. */
function fmtTimestamp(iso?: string): string | undefined {
  if (!iso || !Number.isFinite(Date.parse(iso))) return undefined;
  return new Date(iso).toISOString().replace(/\.\d+Z$/, '').replace(/Z$/, '');
}

function counts(cases: Case[]): { tests: number; failures: number; errors: number; skipped: number } {
  const c = { tests: cases.length, failures: 0, errors: 0, skipped: 0 };
  for (const x of cases) {
    if (x.outcome.type === 'failure') c.failures++;
    else if (x.outcome.type === 'error') c.errors++;
    else if (x.outcome.type === 'skipped') c.skipped++;
  }
  return c;
}

function render(suites: Suite[], name: string): string {
  // xmlbuilder2 escapes every attribute and text node and replaces the characters XML 1.0
  // forbids (captured names are hostile input); this file decides only names and counts.
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '\uFFFD' });
  const all = suites.flatMap((s) => s.cases);
  const tc = counts(all);
  const total = suites.reduce((t, s) => t + s.time, 0);
  const root = doc.ele('testsuites', {
    name,
    tests: String(tc.tests),
    failures: String(tc.failures),
    errors: String(tc.errors),
    skipped: String(tc.skipped),
    time: fmtTime(total),
  });
  suites.forEach((s, id) => {
    const c = counts(s.cases);
    const ts = fmtTimestamp(s.timestamp);
    const suite = root.ele('testsuite', {
      name: s.name,
      id: String(id),
      tests: String(c.tests),
      failures: String(c.failures),
      errors: String(c.errors),
      skipped: String(c.skipped),
      time: fmtTime(s.time),
      ...(ts ? { timestamp: ts } : {}),
    });
    for (const k of s.cases) {
      const tcase = suite.ele('testcase', { name: k.name, classname: k.classname, time: fmtTime(k.time) });
      const o = k.outcome;
      if (o.type === 'pass') continue;
      if (o.type === 'skipped') tcase.ele('skipped', { message: o.message });
      else {
        const el = tcase.ele(o.type, { message: o.message, type: o.type === 'failure' ? 'FAIL' : 'INCONCLUSIVE' });
        if (o.body) el.txt(o.body);
      }
    }
  });
  return doc.end({ prettyPrint: true, indent: '  ' }) + '\n';
}

/** junit.xml of one run: one testsuite (the scenario), one testcase per assertion per phase. */
export function junitForRun(result: RunResult): string {
  return render([suiteOf(result)], result.scenario);
}

/**
 * junit.xml of a suite of runs: one testsuite per scenario. A scenario that did not run is a
 * testsuite with one skipped testcase saying why.
 */
export function junitForSuite(items: RunResult[] | SuiteItem[], name = 'airlock'): string {
  const suites: Suite[] = [];
  const used = new Map<string, number>();
  // GitLab reads classname as the suite and keeps only the first of duplicates: a scenario run
  // twice in one suite (two firmware builds, say) gets `#2` in its suite name and classname.
  const label = (name: string): string => {
    const n = (used.get(name) ?? 0) + 1;
    used.set(name, n);
    return n === 1 ? name : `${name} #${n}`;
  };
  for (const it of items as (RunResult | SuiteItem)[]) {
    const result = 'phases' in it ? it : it.result;
    if (result) {
      suites.push(suiteOf(result, label(result.scenario)));
      continue;
    }
    const s = it as SuiteItem;
    const l = label(s.name);
    suites.push({
      name: l,
      time: 0,
      cases: [{ name: `${l}: not run`, classname: l, time: 0, outcome: { type: 'skipped', message: s.skippedReason ?? 'not run' } }],
    });
  }
  return render(suites, name);
}
