/** summary.md: the verdict, the phases and the findings with their evidence, for a ticket or a pull request. */
import type { Finding } from '../analysis/finding.js';
import { allowText, findingAddresses, findingNames, findingPointer } from './finding-text.js';
import type { ControlsSection } from './controls.js';
import type { AssertionResult, RunResult } from './result.js';
import type { SignerInfo } from './run-summary.js';

/** Markdown-inert text: captured names are hostile input (links, HTML, table breaks). */
export function mdText(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[\\`*_{}[\]<>()#+!|~]/g, (c) => `\\${c}`);
}

/** A code span that no content can break out of. */
function mdCode(s: string): string {
  const t = s.replace(/[\r\n]+/g, ' ').replace(/`/g, "'").replace(/\|/g, '\\|');
  return t ? `\`${t}\`` : '';
}

const ICON: Record<string, string> = { PASS: '✅ PASS', FAIL: '❌ FAIL', INCONCLUSIVE: '⚠️ INCONCLUSIVE' };

function assertionCell(a: AssertionResult): string {
  return `${mdText(a.kind)} ${a.verdict}${a.findings.length ? ` (${a.findings.length})` : ''}`;
}

function findingBlock(n: number, where: string, f: Finding): string {
  const lines = [`${n}. **${mdText(where)}**: ${mdText(f.summary)}`];
  lines.push(`   - evidence: ${mdCode(findingPointer(f))} at ${mdCode(f.time)}`);
  if (f.kind === 'network') {
    lines.push(`   - ${mdCode(f.protocol)} ${mdCode(findingAddresses(f))}${findingNames(f) ? ` ${f.names && f.names.length > 1 ? 'names' : 'name'} ${mdCode(findingNames(f))}` : ''}${f.count > 1 ? `, ${f.count} packets (${f.packet}..${f.lastPacket})` : ''}`);
    if (f.endpoint) lines.push(`   - known endpoint: ${mdText(f.endpoint.vendor)} ${mdText(f.endpoint.service)} (source${f.endpoint.kind ? `, ${f.endpoint.kind}` : ''}: ${mdCode(f.endpoint.source)})`);
  } else if (f.kind === 'power') lines.push(`   - ${mdCode(f.channel)} drew ${f.amps} A, limit ${f.limitAmps} A`);
  else if (f.kind === 'radio') {
    const bits = [f.band && `band ${mdCode(f.band)}`, f.peakDbm !== undefined && `peak ${f.peakDbm} dBm`, f.until && `until ${mdCode(f.until)}`, f.transmitter && `transmitter ${mdCode(f.transmitter)}`].filter(Boolean);
    if (bits.length) lines.push(`   - ${bits.join(', ')}`);
  } else if (f.kind === 'mavlink') lines.push(`   - link ${mdCode(f.link)}, system ${f.systemId}, ${f.count} packets`);
  return lines.join('\n');
}

function controlsMarkdown(c: ControlsSection): string[] {
  const out = ['## Controls', '', 'What this run tested and observed, per control. Each statement covers only the phases it names; none says that the product complies with the control.', ''];
  for (const o of c.controls) {
    const status = o.status === 'NOT_TESTED' ? 'not tested' : o.status;
    out.push(`### ${mdText(o.control.framework)} ${mdText(o.control.id)} ${mdText(o.control.title)}: ${status}`, '');
    out.push(`Source: ${mdText(o.control.source.document)}, ${mdText(o.control.source.section)}${o.control.source.url ? ` ${mdCode(o.control.source.url)}` : ''}`, '');
    if (!o.statements.length) out.push('No assertion of this run bears on this control: nothing was observed for it.', '');
    for (const s of o.statements) out.push(`- **${s.verdict}**: ${mdText(s.text)} Phases: ${s.phases.map(mdText).join(', ')}.`);
    if (o.statements.length) out.push('');
    if (o.evidence.length) {
      out.push('| phase | assertion | verdict | evidence |', '| --- | --- | --- | --- |');
      for (const e of o.evidence) {
        const ev = e.findings.length ? e.findings.map((f) => `#${f.n} ${mdCode(f.pointer)}`).join(', ') : e.reason ? mdText(e.reason) : 'no finding';
        out.push(`| ${mdText(e.phase)} | ${mdText(e.kind)} | ${e.verdict} | ${ev} |`);
      }
      out.push('');
    }
  }
  if (c.unmapped.length) out.push(`Assertions of this run that no control maps: ${c.unmapped.map(mdCode).join(', ')}.`, '');
  return out;
}

export interface SummaryExtras {
  controls?: ControlsSection;
  signer?: SignerInfo;
}

/** The autopilot as it introduced itself (HEARTBEAT, AUTOPILOT_VERSION), from the link's record in result.json. */
export function autopilotLine(link: unknown): string {
  const id = (link as { identity?: Record<string, unknown> } | undefined)?.identity;
  if (!id) return 'not heard';
  const v = id.flightSwVersion !== undefined ? ` ${id.flightSwVersion} ${id.releaseType}, git ${id.gitHash}, board ${id.boardVersion}` : ` (${id.source})`;
  return `${id.autopilot ?? '?'} ${id.vehicleType ?? '?'}${v}`;
}

export function summaryMarkdown(r: RunResult, extras: SummaryExtras = {}): string {
  const out: string[] = [];
  out.push(`# Airlock: ${ICON[r.verdict] ?? r.verdict}: ${mdText(r.scenario)}`, '');
  out.push(`- run ${mdCode(r.runId)} on rig ${mdCode(r.rig)}, ${mdCode(r.startedAt)} to ${mdCode(r.endedAt)}, exit code ${r.exitCode}${r.complete ? '' : ', **incomplete**'}`);
  for (const fw of r.firmware) out.push(`- firmware ${mdCode(fw.device)}: ${mdCode(fw.value)}${fw.sha256 ? ` (sha256 ${mdCode(fw.sha256)})` : ''}`);
  for (const [name, l] of Object.entries(r.links ?? {})) out.push(`- autopilot on link ${mdCode(name)}: ${mdText(autopilotLine(l))}`);
  if (r.fault) out.push(`- **rig fault** ${mdCode(r.fault.code)}: ${mdText(r.fault.message)} (the rig was made safe)`);
  if (r.abort) out.push(`- **aborted**: ${mdText(r.abort.reason)}`);
  out.push(`- Airlock ${mdCode(r.airlockVersion)}, analyzer ${mdCode(r.analyzerVersion)}`);
  if (extras.signer) out.push(`- signature: ${extras.signer.fingerprint ? `key ${mdCode(extras.signer.fingerprint)}, ` : ''}${mdText(extras.signer.text)}`);
  out.push('');

  out.push('| phase | verdict | assertions |', '| --- | --- | --- |');
  for (const p of r.phases) {
    out.push(`| ${mdText(p.name)}${p.incomplete ? ' (incomplete)' : ''} | ${p.verdict}${p.allow ? ` (${mdText(allowText(p.allow))})` : ''} | ${p.assertions.map(assertionCell).join(', ') || '-'} |`);
  }
  if (r.runAssertions.length) out.push(`| whole run | | ${r.runAssertions.map(assertionCell).join(', ')} |`);
  out.push('');
  const windows = (r.coverage ?? []).filter((c) => c.kind !== 'phase');
  if (windows.length) {
    out.push('Outside the phases, the run-wide egress policy judged:', '', '| window | from | to | verdict |', '| --- | --- | --- | --- |');
    for (const c of windows) out.push(`| ${mdText(c.name)} | ${mdCode(c.from)} | ${mdCode(c.to)} | ${c.verdict} |`);
    out.push('');
  }

  const failing: { where: string; a: AssertionResult }[] = [];
  for (const p of r.phases) for (const a of p.assertions) failing.push({ where: `${p.name} / ${a.kind}`, a });
  for (const a of r.runAssertions) failing.push({ where: `run / ${a.kind}`, a });
  for (const c of r.coverage ?? []) if (c.kind !== 'phase') for (const a of c.assertions) failing.push({ where: `${c.name} / ${a.kind}`, a });

  const withFindings = failing.filter((x) => x.a.findings.length);
  out.push(`## Findings (${withFindings.reduce((n, x) => n + x.a.findings.length, 0)})`, '');
  if (!withFindings.length) out.push('None: nothing was seen leaving the lab.', '');
  let n = 0;
  for (const x of withFindings) for (const f of x.a.findings) out.push(findingBlock(++n, x.where, f));
  if (n) out.push('');

  const undecided = failing.filter((x) => x.a.verdict === 'INCONCLUSIVE');
  if (undecided.length) {
    out.push('## Inconclusive', '');
    for (const x of undecided) out.push(`- **${mdText(x.where)}**: ${mdText(x.a.reason ?? 'could not be decided')}`);
    out.push('');
  }
  if (extras.controls) out.push(...controlsMarkdown(extras.controls));
  if (r.captures.length) {
    out.push('## Captures', '', '| capture | kind | files | records | dropped | |', '| --- | --- | --- | --- | --- | --- |');
    for (const c of r.captures) {
      out.push(`| ${mdText(c.name)} | ${mdText(c.kind)} | ${c.files.map(mdCode).join(' ')} | ${c.records} | ${c.dropped} | ${c.lossy ? `**lossy**${c.reason ? `: ${mdText(c.reason)}` : ''}` : ''} |`);
    }
    out.push('');
  }
  out.push('Evidence: the run directory (raw captures, timeline, result.json, manifest.json); check it offline with `airlock verify <run-dir or bundle> --key <public key>`.');
  return out.join('\n') + '\n';
}
