/**
 * no_mavlink: everything the vehicle transmitted on a link in the window. Whole packets come
 * from the raw tlog (unknown message ids included); bytes that were no valid packet (a
 * CRC-damaged frame, line noise) from mavlink-<link>.rxerrors.jsonl beside it: they were
 * transmitted all the same. A link whose transport failed (device gone, serial error, socket
 * closed) has a lossy record: what it would have shown is unknown, so the verdict cannot be PASS.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Assertion } from '../config/types.js';
import type { MavlinkFinding } from '../analysis/finding.js';
import { summarizeTlog } from '../analysis/mavlink/tlog.js';
import type { JudgeInput } from './input.js';

interface RxErrorLine {
  timeUs: number;
  kind: 'bad_crc' | 'garbage';
  bytes: number;
  msgid?: number;
  sysid?: number;
}

export async function judgeMavlink(
  a: Extract<Assertion, { kind: 'no_mavlink' }>,
  input: JudgeInput,
  w: { fromMs: number; toMs: number },
): Promise<{ findings: MavlinkFinding[]; blind: string[] }> {
  const file = `mavlink-${a.link}.tlog`;
  const abs = path.join(input.runDir, file);
  if (!existsSync(abs)) return { findings: [], blind: [`no telemetry record ${file}`] };
  const systemId = input.rig.links[a.link]?.systemId ?? 1;
  const s = await summarizeTlog(abs, { systemId, fromMs: w.fromMs, toMs: w.toMs });
  const blind: string[] = [];
  if (s.damagedAtOffset !== undefined) blind.push(`${file} is damaged at byte offset ${s.damagedAtOffset}`);
  const rec = input.captures.find((c) => c.kind === 'mavlink' && c.name === a.link);
  if (rec?.lossy) blind.push(`telemetry record ${a.link} is lossy: ${rec.reason ?? ''}`);
  const findings: MavlinkFinding[] = [];
  if (s.fromSystem > 0 && s.firstPacket !== undefined) {
    const types = Object.entries(s.messages)
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k} x${v}`)
      .join(', ');
    findings.push({
      kind: 'mavlink',
      file,
      packet: s.firstPacket,
      time: new Date(s.firstTimeMs ?? w.fromMs).toISOString(),
      link: a.link,
      count: s.fromSystem,
      systemId,
      messages: s.messages,
      summary: `system ${systemId} sent ${s.fromSystem} MAVLink packets on ${a.link} (${types})${s.unknownIds ? `, ${s.unknownIds} of unknown message ids` : ''}`,
    });
  }
  const damaged = rxErrorsFinding(input.runDir, a.link, systemId, w);
  if (damaged) findings.push(damaged);
  return { findings, blind };
}

/**
 * Damaged frames in the window. A damaged header cannot be trusted to say who sent it; the
 * link is the vehicle's and Airlock sends nothing on it while no_mavlink is asserted, so every
 * damaged byte in the window is the vehicle's.
 */
function rxErrorsFinding(runDir: string, link: string, systemId: number, w: { fromMs: number; toMs: number }): MavlinkFinding | undefined {
  const file = `mavlink-${link}.rxerrors.jsonl`;
  const abs = path.join(runDir, file);
  if (!existsSync(abs)) return undefined;
  const lines = readFileSync(abs, 'utf8').split('\n');
  let first: { line: number; timeUs: number } | undefined;
  let badCrc = 0;
  let garbage = 0;
  let bytes = 0;
  lines.forEach((text, i) => {
    if (!text.trim()) return;
    let e: RxErrorLine;
    try {
      e = JSON.parse(text) as RxErrorLine;
    } catch {
      return; // a torn last line of a cut run: the lines before it still count
    }
    if (e.timeUs < w.fromMs * 1000 || e.timeUs > w.toMs * 1000) return;
    first ??= { line: i + 1, timeUs: e.timeUs };
    if (e.kind === 'bad_crc') badCrc++;
    else garbage++;
    bytes += e.bytes;
  });
  if (!first) return undefined;
  return {
    kind: 'mavlink',
    file,
    packet: first.line,
    time: new Date(first.timeUs / 1000).toISOString(),
    link,
    count: badCrc + garbage,
    systemId,
    messages: { ...(badCrc ? { CRC_DAMAGED_FRAME: badCrc } : {}), ...(garbage ? { UNFRAMED_BYTES_RUN: garbage } : {}) },
    summary: `${bytes} bytes that were no valid MAVLink packet arrived on ${link} (${badCrc} CRC-damaged frame(s), ${garbage} run(s) of unframed bytes): the vehicle transmitted`,
  };
}
