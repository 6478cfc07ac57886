/**
 * `airlock analyze <capture ...> --lab CIDR [--lab CIDR ...] [--json] [--catalogue FILE]`:
 * judge captures made anywhere. Exit 0 nothing left the lab, 1 findings, 3 inconclusive
 * (damaged or truncated capture, dropped packets), 2 bad input (thrown as InputError).
 */
import { loadCatalogue, scanCaptures, type NetworkScan } from '../../analysis/index.js';
import { findingNames } from '../../evidence/index.js';
import type { CommandIO } from '../io.js';
import { EXIT } from '../exit-codes.js';

export interface AnalyzeOptions {
  files: string[];
  lab: string[];
  json: boolean;
  catalogue?: string;
  /** DNS names allowed besides *.local. */
  labNames?: string[];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

function render(scan: NetworkScan): string {
  const lines: string[] = [];
  const perFile = scan.files.map((f) => `${f.file} (${f.format}, ${f.packets} packets)`).join(', ');
  lines.push(`${scan.verdict}: ${scan.findings.length} finding(s) in ${scan.packets} packets of ${perFile}`);
  if (scan.findings.length > 0) {
    const rows = [['FILE', 'PACKET', 'TIME', 'PROTO', 'SOURCE', 'DESTINATION', 'NAME', 'COUNT', 'REASON']];
    for (const f of scan.findings) {
      rows.push([
        f.file,
        f.lastPacket !== f.packet ? `${f.packet}..${f.lastPacket}` : String(f.packet),
        f.time,
        f.protocol,
        f.srcPort !== undefined ? `${f.src}:${f.srcPort}` : f.src,
        f.dstPort !== undefined ? `${f.dst}:${f.dstPort}` : f.dst,
        (findingNames(f) || '-') + (f.endpoint ? ` [${f.endpoint.vendor}: ${f.endpoint.service}]` : ''),
        String(f.count),
        f.reason ?? '',
      ]);
    }
    lines.push(table(rows));
  }
  for (const d of scan.damage) lines.push(`${d.file}: ${d.offset >= 0 ? `damaged at byte offset ${d.offset}: ` : ''}${d.reason}`);
  return lines.join('\n');
}

export async function analyzeCommand(opts: AnalyzeOptions, io: CommandIO): Promise<number> {
  const catalogue = loadCatalogue(opts.catalogue);
  const scan = await scanCaptures(opts.files, { lab: opts.lab, labNames: opts.labNames ?? [], catalogue });
  if (opts.json) {
    io.out(
      JSON.stringify({
        verdict: scan.verdict,
        analyzerVersion: scan.analyzerVersion,
        findings: scan.findings,
        damage: scan.damage,
        files: scan.files,
        packets: scan.packets,
        dnsQueries: scan.dnsQueries,
        flows: scan.flowCount,
      }),
    );
    for (const d of scan.damage) io.err(`airlock: ${d.file}: ${d.offset >= 0 ? `damaged at byte offset ${d.offset}: ` : ''}${d.reason}`);
  } else {
    io.out(render(scan));
  }
  return scan.verdict === 'FAIL' ? EXIT.finding : scan.verdict === 'INCONCLUSIVE' ? EXIT.inconclusive : EXIT.pass;
}
