/**
 * report.html: one self-contained page that opens offline in any browser. The verdict up top;
 * a timeline of the phases with packets/s per interface, current draw and radio power against time,
 * findings marked on it; the findings table with their evidence; the spectrum waterfall; the
 * environment and a manifest summary. Charts are uPlot, inlined with its CSS; a Content Security
 * Policy forbids every network fetch, so the page cannot phone home either.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Finding } from '../analysis/finding.js';
import { allowText, findingAddresses, findingNames, findingPointer } from './finding-text.js';
import { hashFile, libpcapVersionString, MANIFEST_FILE, SIGNATURE_FILE, walkRunDir } from './manifest.js';
import type { ControlsSection } from './controls.js';
import type { ReportSeries } from './report-data.js';
import type { RunResult } from './result.js';
import type { DeviceIdentity, SignerInfo } from './run-summary.js';
import { autopilotLine } from './summary.js';
import { escapeHtml as h } from './xml.js';

let uplotAssets: { js: string; css: string } | undefined;
function uplot(): { js: string; css: string } {
  if (!uplotAssets) {
    const req = createRequire(import.meta.url);
    const dist = path.dirname(req.resolve('uplot'));
    uplotAssets = {
      js: fs.readFileSync(path.join(dist, 'uPlot.iife.min.js'), 'utf8'),
      css: fs.readFileSync(path.join(dist, 'uPlot.min.css'), 'utf8'),
    };
  }
  return uplotAssets;
}

/** JSON that is safe inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Inline script text: nothing may close the element early. */
function scriptText(js: string): string {
  return js.replace(/<\/script/gi, '<\\/script');
}

interface FindingRow {
  n: number;
  phase: string;
  assertion: string;
  f: Finding;
}

function findingRows(r: RunResult): FindingRow[] {
  const rows: FindingRow[] = [];
  let n = 0;
  for (const p of r.phases) for (const a of p.assertions) for (const f of a.findings) rows.push({ n: ++n, phase: p.name, assertion: a.kind, f });
  for (const a of r.runAssertions) for (const f of a.findings) rows.push({ n: ++n, phase: '(run)', assertion: a.kind, f });
  // Windows outside the phases (preflight, gaps, safing): judged by the run-wide egress policy.
  for (const c of r.coverage ?? []) if (c.kind !== 'phase') for (const a of c.assertions) for (const f of a.findings) rows.push({ n: ++n, phase: `(${c.name})`, assertion: a.kind, f });
  return rows;
}

const COLOR: Record<string, string> = { PASS: '#1a7f37', FAIL: '#cf222e', INCONCLUSIVE: '#9a6700' };

function verdictBadge(v: string): string {
  return `<span class="v v-${h(v)}">${h(v)}</span>`;
}

function phaseWindow(p: RunResult['phases'][number]): { name: string; verdict: string; start: number; end: number } | undefined {
  const s = p.startMs ?? (p.startedAt ? Date.parse(p.startedAt) : NaN);
  const e = p.endMs ?? (p.endedAt ? Date.parse(p.endedAt) : NaN);
  if (!Number.isFinite(s)) return undefined;
  return { name: p.name, verdict: p.verdict, start: s / 1000, end: (Number.isFinite(e) ? e : s) / 1000 };
}

function fileRows(runDir: string): string {
  const rows: string[] = [];
  for (const e of walkRunDir(runDir)) {
    if (e.type !== 'file' || e.name === 'report.html') continue;
    const { sha256, size } = hashFile(path.join(runDir, e.name));
    rows.push(`<tr><td><code>${h(e.name)}</code></td><td class="num">${size}</td><td><code class="hash">${sha256}</code></td></tr>`);
  }
  return rows.join('\n');
}

function waterfalls(runDir: string): string {
  const svgs = fs.readdirSync(runDir).filter((n) => /^waterfall-.*\.svg$/.test(n)).sort();
  if (!svgs.length) return '<p class="muted">No spectrum waterfall in this run (no <code>waterfall-*.svg</code>).</p>';
  // As <img> data URIs: an image cannot run script or fetch anything.
  return svgs
    .map((n) => {
      const b64 = fs.readFileSync(path.join(runDir, n)).toString('base64');
      return `<figure><img class="waterfall" alt="${h(n)}" src="data:image/svg+xml;base64,${b64}"><figcaption><code>${h(n)}</code></figcaption></figure>`;
    })
    .join('\n');
}

const CLIENT_JS = String.raw`
(function () {
  var D = JSON.parse(document.getElementById('airlock-data').textContent);
  var W = Math.max(600, Math.min(1100, document.documentElement.clientWidth - 48));
  var plots = {};
  var lo = Infinity, hi = -Infinity;
  function span(a) { for (var i = 0; i < a.length; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i]; } }
  ['packets', 'power', 'radio'].forEach(function (k) { D.series[k].forEach(function (s) { span(s.x); }); });
  D.phases.forEach(function (p) { span([p.start, p.end]); });
  D.findings.forEach(function (f) { if (f.t != null) span([f.t]); });
  if (!(hi > lo)) { hi = lo + 1; }
  var palette = ['#0969da', '#bf3989', '#1a7f37', '#9a6700', '#8250df', '#cf222e', '#57606a'];
  var shade = { PASS: 'rgba(26,127,55,0.08)', FAIL: 'rgba(207,34,46,0.10)', INCONCLUSIVE: 'rgba(154,103,0,0.10)' };
  function overlay(u) {
    var c = u.ctx, top = u.bbox.top, ht = u.bbox.height;
    c.save();
    D.phases.forEach(function (p) {
      var x0 = u.valToPos(p.start, 'x', true), x1 = u.valToPos(p.end, 'x', true);
      c.fillStyle = shade[p.verdict] || 'rgba(0,0,0,0.05)';
      c.fillRect(x0, top, Math.max(1, x1 - x0), ht);
      c.fillStyle = '#57606a';
      c.font = (11 * devicePixelRatio) + 'px sans-serif';
      c.fillText(p.name, x0 + 3 * devicePixelRatio, top + 12 * devicePixelRatio);
    });
    // One dashed line per pixel column; findings at the same moment share it and its label.
    var marks = [];
    D.findings.forEach(function (f) {
      if (f.t == null) return;
      var x = Math.round(u.valToPos(f.t, 'x', true));
      var m = marks.filter(function (k) { return Math.abs(k.x - x) <= 2 * devicePixelRatio; })[0];
      if (m) m.ns.push(f.n); else marks.push({ x: x, ns: [f.n] });
    });
    marks.forEach(function (m) {
      c.strokeStyle = '#cf222e'; c.lineWidth = 2 * devicePixelRatio; c.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
      c.beginPath(); c.moveTo(m.x, top); c.lineTo(m.x, top + ht); c.stroke();
      c.fillStyle = '#cf222e';
      c.fillText('#' + m.ns.join(','), m.x + 3 * devicePixelRatio, top + ht - 4 * devicePixelRatio);
    });
    c.restore();
  }
  function chart(key, title, unit, stepped) {
    var list = D.series[key];
    var el = document.getElementById('chart-' + key);
    if (!list.length) { el.innerHTML = '<p class="muted">No ' + title.toLowerCase() + ' data in this run.</p>'; return; }
    var data = uPlot.join(list.map(function (s) { return [s.x, s.y]; }));
    var series = [{ label: 'time (UTC)', value: function (u, v) { return v == null ? '-' : new Date(v * 1000).toISOString().slice(11, 23); } }];
    list.forEach(function (s, i) {
      series.push({ label: s.label, stroke: palette[i % palette.length], width: 1.5, spanGaps: false,
        paths: stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
        value: function (u, v) { return v == null ? '-' : v + ' ' + unit; } });
    });
    var opts = { title: title, width: W, height: 200, series: series,
      scales: { x: { time: true, min: lo, max: hi } },
      axes: [{}, { label: unit, size: 60 }],
      cursor: { sync: { key: 'airlock' } },
      hooks: { draw: [overlay] },
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'); } };
    plots[key] = new uPlot(opts, data, el);
  }
  chart('packets', 'Packets per second per interface', 'pkt/s', true);
  chart('power', 'Current draw', 'A', false);
  chart('radio', 'Radio power (highest level per sweep per band)', 'dB', false);
  window.airlockReport = { data: D, plots: plots, ready: true };
})();
`;

export interface HtmlReportInput {
  runDir: string;
  result: RunResult;
  series: ReportSeries;
  /** The Controls section (controls.ts); absent: none is shown. */
  controls?: ControlsSection;
  /** Who signed the run and whether the reader trusts the key (run-summary.ts). */
  signer?: SignerInfo;
  devices?: DeviceIdentity[];
}

function statusBadge(v: string): string {
  return v === 'NOT_TESTED' ? '<span class="v v-NOT_TESTED">not tested</span>' : verdictBadge(v);
}

/** The one-page run summary printed first: identities, firmware hashes, scenario, verdict per phase, controls, signer. */
function summaryPage(r: RunResult, devices: DeviceIdentity[], controls: ControlsSection | undefined, signer: SignerInfo | undefined): string {
  const dev = devices.length
    ? `<table id="summary-devices"><thead><tr><th>device</th><th>lab address</th><th>firmware</th><th>firmware sha256</th></tr></thead><tbody>${devices
        .map((d) => `<tr><td>${h(d.name)}</td><td><code>${h(d.addresses.join(' ') || '-')}</code></td><td><code>${h(d.firmware ?? '-')}</code></td><td><code class="hash">${h(d.sha256 ?? 'not recorded')}</code></td></tr>`)
        .join('')}</tbody></table>`
    : '<p class="muted">No device identities recorded.</p>';
  const phases = `<table id="summary-phases"><thead><tr><th>phase</th><th>verdict</th></tr></thead><tbody>${r.phases
    .map((p) => `<tr><td>${h(p.name)}${p.incomplete ? ' <em>(incomplete)</em>' : ''}</td><td>${verdictBadge(p.verdict)}</td></tr>`)
    .join('')}</tbody></table>`;
  const ctl = controls
    ? `<table id="summary-controls"><thead><tr><th>control</th><th>observed</th></tr></thead><tbody>${controls.controls
        .map((c) => `<tr><td>${h(c.control.framework)} <strong>${h(c.control.id)}</strong> ${h(c.control.title)}</td><td>${statusBadge(c.status)}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  const sig = signer ?? { trust: 'unsigned', text: 'unsigned: the run carries no signature' };
  return `<section id="run-summary" class="page" data-verdict="${h(r.verdict)}">
<h1>Airlock run summary: <span class="v v-${h(r.verdict)}" id="summary-verdict">${h(r.verdict)}</span></h1>
<table id="summary-run"><tbody>
<tr><th>scenario</th><td><strong>${h(r.scenario)}</strong></td><th>run</th><td><code>${h(r.runId)}</code></td></tr>
<tr><th>rig</th><td>${h(r.rig)}</td><th>exit code</th><td>${r.exitCode}${r.complete ? '' : ' (incomplete)'}</td></tr>
<tr><th>from</th><td><code>${h(r.startedAt)}</code></td><th>to</th><td><code>${h(r.endedAt)}</code></td></tr>
<tr><th>Airlock</th><td>${h(r.airlockVersion)}</td><th>analyzer</th><td>${h(r.analyzerVersion)}</td></tr>
</tbody></table>
${r.fault ? `<p>rig fault <code>${h(r.fault.code)}</code>: ${h(r.fault.message)} (the rig was made safe)</p>` : ''}${r.abort ? `<p>aborted: ${h(r.abort.reason)}</p>` : ''}
<h3>Devices and firmware</h3>
${dev}
<h3>Verdict per phase</h3>
${phases}
${ctl ? `<h3>Controls (what was observed; not a statement of compliance)</h3>\n${ctl}` : ''}
<h3>Signature</h3>
<p id="summary-signer" data-trust="${h(sig.trust)}">${sig.fingerprint ? `signer key fingerprint <code class="fingerprint">${h(sig.fingerprint)}</code><br>` : ''}<strong>${h(
    sig.trust === 'trusted' ? 'trusted' : sig.trust === 'not-trusted' ? 'NOT TRUSTED' : sig.trust === 'unchecked' ? 'trust not checked' : 'unsigned',
  )}</strong>: ${h(sig.text)}</p>
</section>`;
}

/** The Controls section: per control, what was observed in which phases, the assertions and their evidence. */
function controlsSection(c: ControlsSection): string {
  const doc = (d: { document: string; section: string; url?: string }) =>
    `${h(d.document)}, ${h(d.section)}${d.url ? ` (<code>${h(d.url)}</code>)` : ''}`;
  const parts = c.controls.map((o) => {
    const ev = o.evidence.length
      ? `<table class="control-evidence"><thead><tr><th>phase</th><th>assertion</th><th>verdict</th><th>evidence</th></tr></thead><tbody>${o.evidence
          .map(
            (e) =>
              `<tr><td>${h(e.phase)}</td><td>${h(e.kind)}</td><td>${verdictBadge(e.verdict)}</td><td>${
                e.findings.length
                  ? e.findings.map((f) => `<a href="#finding-${f.n}">#${f.n}</a> <code>${h(f.pointer)}</code>`).join('<br>')
                  : e.reason
                    ? `<span class="muted">${h(e.reason)}</span>`
                    : '<span class="muted">no finding</span>'
              }</td></tr>`,
          )
          .join('')}</tbody></table>`
      : '';
    const said = o.statements.length
      ? `<ul>${o.statements.map((s) => `<li>${verdictBadge(s.verdict)} ${h(s.text)} <span class="phases">Phases: ${s.phases.map(h).join(', ')}.</span></li>`).join('')}</ul>`
      : `<p>${h(NOT_TESTED)}</p>`;
    return `<div class="control" data-control="${h(o.control.id)}" data-status="${h(o.status)}">
<h3>${h(o.control.framework)} ${h(o.control.id)} ${h(o.control.title)}: ${statusBadge(o.status)}</h3>
<p class="muted">Source: ${doc(o.control.source)}${(o.control.references ?? []).map((d) => `; see also ${doc(d)}`).join('')}</p>
${said}
${o.control.scope ? `<p class="muted">${h(o.control.scope)}</p>` : ''}
${ev}
</div>`;
  });
  return `<p class="muted">What this run tested and observed, per control a certifier checks. Each statement covers only the phases it names; none is a statement that the product complies with the control. Mapping: ${c.origin.map((o) => `<code>${h(o)}</code>`).join(' extended by ')}.</p>
${parts.join('\n')}
${c.unmapped.length ? `<p class="muted">Assertions of this run that no control maps: ${c.unmapped.map((k) => `<code>${h(k)}</code>`).join(', ')}.</p>` : ''}`;
}

const NOT_TESTED = 'No assertion of this run bears on this control: nothing was observed for it.';

/** Print: the summary alone on page 1, each section on a new page, colours kept, charts fit the page. */
const PRINT_CSS = `
.v-NOT_TESTED{background:#57606a}
.v-NOT_RUN{background:#57606a}
#run-summary h1{font-size:22px}#run-summary h3{margin:10px 0 4px}
#run-summary table{font-size:12px}
.control{margin:8px 0 16px}.control h3{margin-bottom:2px}.phases{color:#57606a}
@page{size:A4;margin:14mm}
@media screen{#run-summary{border:1px solid #d0d7de;border-radius:8px;padding:8px 16px;margin-bottom:16px}}
@media print{
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  body{margin:0;font-size:11px}
  #run-summary{break-after:page;page-break-after:always}
  #run-summary,#run-summary table{font-size:10.5px}
  h2{break-before:page;page-break-before:always;break-after:avoid}
  #verdict + h2{break-before:auto;page-break-before:auto}
  tr,figure,.uplot,.control h3{break-inside:avoid;page-break-inside:avoid}
  .uplot,.uplot canvas,img.waterfall{max-width:100%!important;height:auto!important}
  a{color:inherit;text-decoration:none}
  .hash{font-size:8px}
}`;

export function htmlReport({ runDir, result: r, series, controls, signer, devices }: HtmlReportInput): string {
  const { js, css } = uplot();
  const rows = findingRows(r);
  const phases = r.phases.map(phaseWindow).filter((p): p is NonNullable<typeof p> => p !== undefined);
  const data = {
    series,
    phases,
    findings: rows.map((x) => ({ n: x.n, t: Number.isFinite(Date.parse(x.f.time)) ? Date.parse(x.f.time) / 1000 : null, kind: x.f.kind })),
  };
  const findingTable = rows.length
    ? `<table id="findings"><thead><tr><th>#</th><th>phase</th><th>assertion</th><th>kind</th><th>file</th><th>packet / line</th><th>time (UTC)</th><th>source</th><th>destination</th><th>protocol</th><th>name</th><th>summary</th></tr></thead><tbody>
${rows
  .map(({ n, phase, assertion, f }) => {
    const ptr = findingPointer(f).slice(f.file.length + 1);
    const net = f.kind === 'network' ? f : undefined;
    const src = net ? findingAddresses(net).split(' -> ')[0] : '';
    const dst = net ? findingAddresses(net).split(' -> ')[1] : '';
    return `<tr class="finding" id="finding-${n}" data-kind="${h(f.kind)}"><td class="num">${n}</td><td>${h(phase)}</td><td>${h(assertion)}</td><td>${h(f.kind)}</td><td><code>${h(f.file)}</code></td><td>${h(ptr)}</td><td><code>${h(f.time)}</code></td><td><code>${h(src ?? '')}</code></td><td><code>${h(dst ?? '')}</code></td><td>${h(net?.protocol ?? '')}</td><td><code>${h(net ? findingNames(net) : '')}</code></td><td>${h(f.summary)}</td></tr>`;
  })
  .join('\n')}
</tbody></table>`
    : '<p id="no-findings">No findings: nothing was seen leaving the lab.</p>';

  const phaseTable = `<table id="phases"><thead><tr><th>phase</th><th>verdict</th><th>from</th><th>to</th><th>assertions</th></tr></thead><tbody>
${r.phases
  .map(
    (p) =>
      `<tr><td>${h(p.name)}${p.incomplete ? ' <em>(incomplete)</em>' : ''}</td><td>${verdictBadge(p.verdict)}${p.allow ? `<br><span class="allow">${h(allowText(p.allow))}</span>` : ''}</td><td><code>${h(p.startedAt ?? '-')}</code></td><td><code>${h(p.endedAt ?? '-')}</code></td><td>${p.assertions
        .map((a) => `${h(a.kind)} ${verdictBadge(a.verdict)}${a.reason ? ` <span class="muted">${h(a.reason)}</span>` : ''}`)
        .join('<br>')}</td></tr>`,
  )
  .join('\n')}
${(r.coverage ?? [])
  .filter((c) => c.kind !== 'phase')
  .map((c) => `<tr class="window"><td><em>${h(c.name)}</em></td><td>${verdictBadge(c.verdict)}</td><td><code>${h(c.from)}</code></td><td><code>${h(c.to)}</code></td><td>${c.assertions.map((a) => `${h(a.kind)} ${verdictBadge(a.verdict)}${a.reason ? ` <span class="muted">${h(a.reason)}</span>` : ''}`).join('<br>')}</td></tr>`)
  .join('\n')}
${r.runAssertions.length ? `<tr><td>(whole run)</td><td></td><td></td><td></td><td>${r.runAssertions.map((a) => `${h(a.kind)} ${verdictBadge(a.verdict)}`).join('<br>')}</td></tr>` : ''}
</tbody></table>`;

  const env: [string, string][] = [
    ['Airlock', r.airlockVersion],
    ['analyzer', r.analyzerVersion],
    ['Node.js', process.version],
    ['libpcap', libpcapVersionString() ?? 'not loaded'],
    ['host', `${os.hostname()} (${process.platform} ${os.release()}, ${process.arch})`],
    ['rig', r.rig],
    ...r.firmware.map((f): [string, string] => [`firmware ${f.device}`, `${f.value}${f.sha256 ? ` (sha256 ${f.sha256})` : ''}`]),
    ...Object.entries(r.links ?? {}).map(([name, l]): [string, string] => [`autopilot ${name}`, autopilotLine(l)]),
    ...Object.entries(r.params).map(([k, v]): [string, string] => [`param ${k}`, v]),
    ...Object.entries(r.settings).map(([k, v]): [string, string] => [`setting ${k}`, v]),
  ];
  const captures = r.captures.length
    ? `<table id="captures"><thead><tr><th>capture</th><th>kind</th><th>files</th><th>records</th><th>dropped</th><th></th></tr></thead><tbody>${r.captures
        .map(
          (c) =>
            `<tr><td>${h(c.name)}</td><td>${h(c.kind)}</td><td>${c.files.map((f) => `<code>${h(f)}</code>`).join(' ')}</td><td class="num">${c.records}</td><td class="num">${c.dropped}</td><td>${c.lossy ? `<strong>lossy</strong> ${h(c.reason ?? '')}` : ''}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Airlock ${h(r.verdict)}: ${h(r.scenario)} (${h(r.runId)})</title>
<style>${css}
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1f2328}
h1{margin:0 0 4px}h2{margin-top:32px;border-bottom:1px solid #d0d7de}
.banner{padding:16px 20px;border-radius:8px;color:#fff;background:${COLOR[r.verdict] ?? '#57606a'}}
.banner .big{font-size:32px;font-weight:700}
.v{font-weight:600;padding:0 6px;border-radius:4px;color:#fff}.v-PASS{background:${COLOR.PASS}}.v-FAIL{background:${COLOR.FAIL}}.v-INCONCLUSIVE{background:${COLOR.INCONCLUSIVE}}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d0d7de;padding:3px 8px;vertical-align:top;text-align:left}
.num{text-align:right}.muted{color:#57606a}.hash{font-size:11px}
img.waterfall{max-width:100%;border:1px solid #d0d7de}
${PRINT_CSS}
</style></head><body>
${summaryPage(r, devices ?? [], controls, signer)}
<div class="banner" id="verdict" data-verdict="${h(r.verdict)}"><div class="big">${h(r.verdict)}</div>
<div>scenario <strong>${h(r.scenario)}</strong> · run <code>${h(r.runId)}</code> · ${h(r.startedAt)} to ${h(r.endedAt)} · exit code ${r.exitCode}${r.complete ? '' : ' · <strong>incomplete</strong>'}</div>
${r.fault ? `<div>rig fault <code>${h(r.fault.code)}</code>: ${h(r.fault.message)} (the rig was made safe)</div>` : ''}
${r.abort ? `<div>aborted: ${h(r.abort.reason)}</div>` : ''}
<div>${rows.length} finding${rows.length === 1 ? '' : 's'}</div></div>

<h2>Timeline</h2>
<p class="muted">Phases are shaded by verdict; dashed red lines mark findings (numbers as in the table below). Times are UTC.</p>
<div id="chart-packets"></div><div id="chart-power"></div><div id="chart-radio"></div>
${series.notes.length ? `<p class="muted">Notes: ${series.notes.map(h).join('; ')}</p>` : ''}

<h2>Phases</h2>
${phaseTable}

<h2>Findings</h2>
${findingTable}

${controls ? `<h2>Controls</h2>\n<div id="controls">${controlsSection(controls)}</div>\n` : ''}
<h2>Spectrum waterfall</h2>
${waterfalls(runDir)}

<h2>Environment</h2>
<table id="environment"><tbody>${env.map(([k, v]) => `<tr><th>${h(k)}</th><td><code>${h(v)}</code></td></tr>`).join('')}</tbody></table>
${captures}

<h2>Manifest summary</h2>
<p class="muted">The files of the run directory when this report was written, with their SHA-256. <code>${MANIFEST_FILE}</code> is written after this report and covers it too; <code>${SIGNATURE_FILE}</code> signs it when the run was signed. Check everything offline with <code>airlock verify</code>.</p>
<table id="files"><thead><tr><th>file</th><th>bytes</th><th>sha256</th></tr></thead><tbody>
${fileRows(runDir)}
</tbody></table>

<script id="airlock-data" type="application/json">${scriptJson(data)}</script>
<script>${scriptText(js)}</script>
<script>${scriptText(CLIENT_JS)}</script>
</body></html>
`;
}
