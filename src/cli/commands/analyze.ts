/**
 * `airlock analyze <capture ...> --lab CIDR [--lab CIDR ...] [--json] [--catalogue FILE]`:
 * judge captures made anywhere, network and radio alike, in one call. Network frames go
 * through the egress scan; radio frames (802.11 monitor captures, link types 105 and 127;
 * Bluetooth LE sniffer captures, 251, 256 and 272) through the radio decoders, where Remote ID,
 * vendor drone-ID and probe requests are findings and other transmitters are observations.
 * Exit 0 nothing left the lab, 1 findings, 3 inconclusive (damaged or truncated capture,
 * dropped packets, TCP capture loss above --capture-loss-max, frames of a link type not
 * decoded), 2 bad input (thrown as InputError).
 */
import { loadCatalogue, type CaptureDamage, type Finding, type NetworkScan, type Verdict } from '../../analysis/index.js';
import type { RadioObservation, RadioReport } from '../../analysis/radio/index.js';
import { judgeCaptures } from '../../verdict/index.js';
import { findingNames } from '../../evidence/index.js';
import type { CaptureLossEntry } from '../../verdict/result.js';
import type { CommandIO } from '../io.js';
import { EXIT } from '../exit-codes.js';

export interface AnalyzeOptions {
  files: string[];
  lab: string[];
  json: boolean;
  catalogue?: string;
  /** DNS names allowed besides *.local. */
  labNames?: string[];
  /** Largest TCP capture loss (a fraction) a file may show and still prove sight; default 0.1 %. */
  captureLossMax?: number;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

const range = (a: number, b: number | undefined) => (b !== undefined && b !== a ? `${a}..${b}` : String(a));

function networkTable(scan: NetworkScan): string {
  const withProcess = scan.findings.some((f) => f.process !== undefined);
  const rows = [['FILE', 'PACKET', 'TIME', 'PROTO', 'SOURCE', 'DESTINATION', 'NAME', ...(withProcess ? ['PROCESS'] : []), 'COUNT', 'REASON']];
  for (const f of scan.findings) {
    rows.push([
      f.file,
      range(f.packet, f.lastPacket),
      f.time,
      f.protocol,
      f.srcPort !== undefined ? `${f.src}:${f.srcPort}` : f.src,
      f.dstPort !== undefined ? `${f.dst}:${f.dstPort}` : f.dst,
      (findingNames(f) || '-') + (f.endpoint ? ` [${f.endpoint.vendor}: ${f.endpoint.service}]` : ''),
      ...(withProcess ? [f.process ?? '-'] : []),
      String(f.count),
      f.reason ?? '',
    ]);
  }
  return table(rows);
}

const str = (v: string | number | undefined) => (v === undefined ? '-' : String(v));

function radioTable(radio: RadioReport): string {
  const rows = [['FILE', 'PACKETS', 'TIME', 'CARRIER', 'TRANSMITTER', 'SERIAL / ID', 'OPERATOR ID', 'POSITION', 'OPERATOR POSITION', 'FRAMES']];
  for (const f of [...radio.broadcasts, ...radio.probes]) {
    const x = f.fields ?? {};
    const pos = x.lat !== undefined ? `${x.lat}, ${x.lon}${x.altGeoM !== undefined ? ` ${x.altGeoM} m` : x.altitude !== undefined ? ` ${x.altitude} m` : ''}` : '-';
    const op = x.operatorLat !== undefined ? `${x.operatorLat}, ${x.operatorLon}` : x.homeLat !== undefined ? `home ${x.homeLat}, ${x.homeLon}` : '-';
    rows.push([
      f.file,
      range(f.packet ?? 0, f.lastPacket),
      f.time,
      f.carrier ?? '-',
      f.transmitter ?? '-',
      f.carrier === 'wifi-probe-request' ? `SSID "${str(x.ssid)}"` : str(x.serial),
      str(x.operatorId),
      pos,
      op,
      String(f.count ?? x.count ?? ''),
    ]);
  }
  return table(rows);
}

/** The decoded fields of each broadcast, one `name=value` list per finding (the table shows the main ones). */
function radioFields(radio: RadioReport): string[] {
  return radio.broadcasts.map((f) => {
    const fields = Object.entries(f.fields ?? {})
      .filter(([k]) => k !== 'count')
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return `  ${f.file} packet ${f.packet} ${f.transmitter}: ${fields}`;
  });
}

function observationTable(obs: RadioObservation[]): string {
  const rows = [['FILE', 'MEDIUM', 'TRANSMITTER', 'FRAMES', 'PACKETS', 'FIRST', 'LAST', 'SIGNAL', 'KINDS', 'NAME']];
  for (const o of obs) {
    rows.push([o.file, o.medium, o.transmitter, String(o.frames), range(o.firstPacket, o.lastPacket), o.time, o.until, o.peakDbm !== undefined ? `${o.peakDbm} dBm` : '-', o.kinds.join(','), o.name ?? '']);
  }
  return table(rows);
}

/** One line per file that carried TCP: its estimated capture loss, or why there is none. */
function lossLines(loss: CaptureLossEntry[]): string[] {
  return loss.map(
    (e) =>
      `TCP capture loss: ${e.file}: ${e.percent !== undefined ? `${e.percent.toFixed(2)} % (${e.gaps} of ${e.acks} ACKs acknowledged data the capture never saw, ${e.gapBytes} bytes)` : `not estimated: ${e.notEstimated}`}`,
  );
}

function render(scan: NetworkScan, radio: RadioReport, verdict: Verdict, findings: Finding[], damage: CaptureDamage[], loss: CaptureLossEntry[]): string {
  const lines: string[] = [];
  const perFile = scan.files.map((f) => `${f.file} (${f.format}, ${f.packets} packets)`).join(', ');
  const radioCount = radio.broadcasts.length + radio.probes.length;
  lines.push(`${verdict}: ${findings.length} finding(s) (${scan.findings.length} network, ${radioCount} radio) in ${scan.packets} packets of ${perFile}`);
  lines.push(...lossLines(loss));
  if (scan.findings.length > 0) lines.push('', 'Network findings:', networkTable(scan));
  if (radioCount > 0) {
    lines.push('', 'Radio findings (broadcasts that carry identity or position, probe requests):', radioTable(radio));
    if (radio.broadcasts.length > 0) lines.push('Decoded fields:', ...radioFields(radio));
  }
  if (radio.observations.length > 0) lines.push('', 'Other transmitters (observations, not judged):', observationTable(radio.observations));
  if (damage.length > 0) lines.push('');
  for (const d of damage) lines.push(`${d.file}: ${d.offset >= 0 ? `${d.unjudged ? 'frames not judged from' : 'damaged at'} byte offset ${d.offset}: ` : ''}${d.reason}`);
  return lines.join('\n');
}

export async function analyzeCommand(opts: AnalyzeOptions, io: CommandIO): Promise<number> {
  const catalogue = loadCatalogue(opts.catalogue);
  // The same engine as `run` and `verify`: the captures are one window under the --lab policy.
  const { scan, radio, findings, damage, verdict, captureLoss } = await judgeCaptures(opts.files, {
    lab: opts.lab,
    labNames: opts.labNames ?? [],
    catalogue,
    ...(opts.captureLossMax !== undefined ? { captureLossMax: opts.captureLossMax } : {}),
  });
  if (opts.json) {
    io.out(
      JSON.stringify({
        verdict,
        analyzerVersion: scan.analyzerVersion,
        findings,
        damage,
        files: scan.files,
        packets: scan.packets,
        dnsQueries: scan.dnsQueries,
        flows: scan.flowCount,
        captureLoss,
        radio: { frames: radio.frames, undecoded: radio.undecoded, incompleteAdverts: radio.incompleteAdverts, observations: radio.observations },
      }),
    );
    for (const d of damage) io.err(`airlock: ${d.file}: ${d.offset >= 0 ? `${d.unjudged ? 'frames not judged from' : 'damaged at'} byte offset ${d.offset}: ` : ''}${d.reason}`);
  } else {
    io.out(render(scan, radio, verdict, findings, damage, captureLoss));
  }
  return verdict === 'FAIL' ? EXIT.finding : verdict === 'INCONCLUSIVE' ? EXIT.inconclusive : EXIT.pass;
}
