/**
 * History over kept suite directories: verdicts per scenario per firmware build (the build is
 * the firmware recorded in suite.json: device, value and SHA-256), as a Markdown table, and a
 * self-contained HTML trend page (inline SVG, no scripts, no network): verdicts over builds and
 * the number of outside destinations over builds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunResult } from '../evidence/result.js';
import type { SuiteRecord } from './suite-run.js';
import { RegressionInputError } from './errors.js';

export interface HistoryBuild {
  /** Stable key: the firmware SHA-256s (device=sha). */
  key: string;
  /** Short label for tables: `drone=leaky-dns@1a2b3c4d`. */
  label: string;
  firmware: { device: string; value: string; sha256?: string }[];
  firstSeen: string;
  suites: string[];
  /** Verdict per scenario: the latest suite of this build decides; earlier different verdicts are listed. */
  verdicts: Record<string, string>;
  /** Distinct outside destinations over all runs of the latest suite of this build. */
  outsideDestinations: string[];
}

export interface History {
  dir: string;
  scenarios: string[];
  builds: HistoryBuild[];
  suites: number;
}

function findSuiteDirs(dir: string, depth: number, out: string[]): void {
  if (fs.existsSync(path.join(dir, 'suite.json'))) {
    out.push(dir);
    return;
  }
  if (depth === 0) return;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) findSuiteDirs(path.join(dir, e.name), depth - 1, out);
}

function short(sha?: string): string {
  return sha ? sha.slice(0, 8) : 'no-sha';
}

function runVerdict(r: SuiteRecord['runs'][number]): string {
  if (r.status === 'not-run') return 'NOT RUN';
  if (r.status === 'error') return 'ERROR';
  return r.verdict ?? 'INCONCLUSIVE';
}

function outsideOfRun(suiteDir: string, r: SuiteRecord['runs'][number]): string[] {
  if (Array.isArray(r.outsideDestinations)) return r.outsideDestinations;
  if (!r.runDir) return [];
  try {
    const res = JSON.parse(fs.readFileSync(path.join(suiteDir, r.runDir, 'result.json'), 'utf8')) as RunResult;
    return [...new Set(res.findings.filter((f) => f.kind === 'network' && f.reason !== 'dns-name').map((f) => (f as { dst: string }).dst))];
  } catch {
    return [];
  }
}

/** Reads every suite directory under `dir` (up to three levels down, as CI artifact trees nest them). */
export function buildHistory(dir: string): History {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new RegressionInputError('AIRLOCK_HISTORY_BAD_INPUT', `${dir}: not a directory`);
  const dirs: string[] = [];
  findSuiteDirs(abs, 3, dirs);
  const suites: { dir: string; rec: SuiteRecord }[] = [];
  for (const d of dirs) {
    try {
      const rec = JSON.parse(fs.readFileSync(path.join(d, 'suite.json'), 'utf8')) as SuiteRecord;
      if (Array.isArray(rec.runs)) suites.push({ dir: d, rec });
    } catch {
      /* a suite directory whose suite.json is unreadable: skipped */
    }
  }
  if (suites.length === 0) throw new RegressionInputError('AIRLOCK_HISTORY_BAD_INPUT', `${dir}: no suite directories (suite.json) found`);
  suites.sort((a, b) => (a.rec.startedAt ?? '').localeCompare(b.rec.startedAt ?? ''));
  const scenarios: string[] = [];
  const builds = new Map<string, HistoryBuild & { all: Record<string, string[]> }>();
  for (const { dir: sdir, rec } of suites) {
    let fw: { device: string; value: string; sha256?: string }[] = rec.firmware ?? [];
    if (fw.length === 0) fw = rec.runs.find((r) => r.firmware?.length)?.firmware ?? [];
    const sorted = [...fw].sort((a, b) => a.device.localeCompare(b.device));
    const key = sorted.map((f) => `${f.device}=${f.sha256 ?? f.value}`).join(',') || '(unrecorded)';
    const label = sorted.map((f) => `${f.device}=${f.value}@${short(f.sha256)}`).join(', ') || '(unrecorded)';
    let b = builds.get(key);
    if (!b) {
      b = { key, label, firmware: sorted, firstSeen: rec.startedAt, suites: [], verdicts: {}, outsideDestinations: [], all: {} };
      builds.set(key, b);
    }
    b.suites.push(path.relative(abs, sdir) || '.');
    const outside = new Set<string>();
    for (const r of rec.runs) {
      if (!scenarios.includes(r.scenario)) scenarios.push(r.scenario);
      (b.all[r.scenario] ??= []).push(runVerdict(r));
      for (const d of outsideOfRun(sdir, r)) outside.add(d);
    }
    b.outsideDestinations = [...outside].sort(); // the latest suite of the build
  }
  const list = [...builds.values()].map(({ all, ...b }) => {
    for (const [sc, vs] of Object.entries(all)) {
      const distinct = vs.filter((v, i) => vs.indexOf(v) === i);
      b.verdicts[sc] = distinct.length > 1 ? `${vs[vs.length - 1]} (was ${distinct.filter((v) => v !== vs[vs.length - 1]).join(', ')})` : vs[0]!;
    }
    return b;
  });
  return { dir: abs, scenarios, builds: list, suites: suites.length };
}

export function historyMarkdown(h: History): string {
  const out = [`# History: ${h.suites} suites, ${h.builds.length} firmware builds (${h.dir})`, ''];
  out.push(`| scenario | ${h.builds.map((_, i) => `build ${i + 1}`).join(' | ')} |`);
  out.push(`| --- | ${h.builds.map(() => '---').join(' | ')} |`);
  for (const s of h.scenarios) out.push(`| ${s} | ${h.builds.map((b) => b.verdicts[s] ?? '').join(' | ')} |`);
  out.push(`| outside destinations | ${h.builds.map((b) => String(b.outsideDestinations.length)).join(' | ')} |`);
  out.push('', 'Builds (oldest first):', '');
  h.builds.forEach((b, i) => {
    out.push(`${i + 1}. ${b.label} — first seen ${b.firstSeen}, ${b.suites.length} suite${b.suites.length === 1 ? '' : 's'}${b.outsideDestinations.length ? `; outside: ${b.outsideDestinations.join(', ')}` : ''}`);
  });
  out.push('');
  return out.join('\n');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const COLOUR: Record<string, string> = { PASS: '#2e7d32', FAIL: '#c62828', INCONCLUSIVE: '#f9a825', 'NOT RUN': '#9e9e9e', ERROR: '#6a1b9a' };

/** The trend page: one file, inline SVG, readable offline. Each mark carries its data (data-*) for checking. */
export function historyHtml(h: History): string {
  const cell = 28;
  const left = 200;
  const top = 30;
  const gridW = left + h.builds.length * cell + 20;
  const gridH = top + h.scenarios.length * cell + 20;
  const grid: string[] = [];
  h.builds.forEach((b, i) => {
    grid.push(`<text x="${left + i * cell + cell / 2}" y="${top - 8}" text-anchor="middle" font-size="11">${i + 1}</text>`);
  });
  h.scenarios.forEach((s, j) => {
    grid.push(`<text x="${left - 8}" y="${top + j * cell + cell / 2 + 4}" text-anchor="end" font-size="12">${esc(s)}</text>`);
    h.builds.forEach((b, i) => {
      const v = b.verdicts[s];
      if (!v) return;
      const base = v.split(' ')[0] === 'NOT' ? 'NOT RUN' : v.split(' ')[0]!;
      grid.push(
        `<rect class="verdict" data-scenario="${esc(s)}" data-build="${i + 1}" data-verdict="${esc(v)}" x="${left + i * cell + 2}" y="${top + j * cell + 2}" width="${cell - 4}" height="${cell - 4}" fill="${COLOUR[base] ?? '#9e9e9e'}"><title>${esc(`${s}, build ${i + 1}: ${v}`)}</title></rect>`,
      );
    });
  });
  const max = Math.max(1, ...h.builds.map((b) => b.outsideDestinations.length));
  const barH = 120;
  const unit = barH / max;
  const bw = 28;
  const bars: string[] = [];
  h.builds.forEach((b, i) => {
    const n = b.outsideDestinations.length;
    const height = n * unit;
    const x = 40 + i * bw;
    bars.push(
      `<rect class="dest-bar" data-build="${i + 1}" data-count="${n}" x="${x + 3}" y="${(10 + barH - height).toFixed(2)}" width="${bw - 6}" height="${height.toFixed(2)}" fill="#c62828"><title>${esc(`build ${i + 1}: ${n} outside destinations${n ? ` (${b.outsideDestinations.join(', ')})` : ''}`)}</title></rect>`,
      `<text x="${x + bw / 2}" y="${barH + 26}" text-anchor="middle" font-size="11">${i + 1}</text>`,
    );
  });
  bars.push(`<line x1="38" y1="${10 + barH}" x2="${40 + h.builds.length * bw}" y2="${10 + barH}" stroke="#333"/>`);
  bars.push(`<text x="34" y="16" text-anchor="end" font-size="11">${max}</text><text x="34" y="${10 + barH}" text-anchor="end" font-size="11">0</text>`);
  const buildRows = h.builds
    .map((b, i) => `<tr><td>${i + 1}</td><td><code>${esc(b.label)}</code></td><td>${esc(b.firstSeen)}</td><td>${b.suites.length}</td><td>${esc(b.outsideDestinations.join(', '))}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Airlock history</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}code{font-size:12px}</style>
</head><body>
<h1>Airlock history</h1>
<p>${h.suites} suites, ${h.builds.length} firmware builds, from <code>${esc(h.dir)}</code>.</p>
<h2>Verdicts over builds</h2>
<svg id="verdicts" xmlns="http://www.w3.org/2000/svg" width="${gridW}" height="${gridH}" role="img" aria-label="verdict per scenario per build">
${grid.join('\n')}
</svg>
<p><span style="color:${COLOUR.PASS}">■</span> PASS <span style="color:${COLOUR.FAIL}">■</span> FAIL <span style="color:${COLOUR.INCONCLUSIVE}">■</span> INCONCLUSIVE <span style="color:${COLOUR['NOT RUN']}">■</span> not run</p>
<h2>Outside destinations over builds</h2>
<svg id="destinations" xmlns="http://www.w3.org/2000/svg" width="${60 + h.builds.length * bw}" height="${barH + 40}" role="img" aria-label="outside destinations per build">
${bars.join('\n')}
</svg>
<h2>Builds</h2>
<table><tr><th>#</th><th>firmware</th><th>first seen</th><th>suites</th><th>outside destinations</th></tr>
${buildRows}
</table>
</body></html>
`;
}
