/** no_mavlink: what the vehicle sent on a link in the window, from the raw tlog. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Assertion } from '../config/types.js';
import type { MavlinkFinding } from '../analysis/finding.js';
import { summarizeTlog } from '../devices/flight/index.js';
import type { JudgeInput } from './engine.js';

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
  if (s.fromSystem === 0 || s.firstPacket === undefined) return { findings: [], blind };
  const types = Object.entries(s.messages)
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k} x${v}`)
    .join(', ');
  return {
    findings: [
      {
        kind: 'mavlink',
        file,
        packet: s.firstPacket,
        time: new Date(s.firstTimeMs ?? w.fromMs).toISOString(),
        link: a.link,
        count: s.fromSystem,
        systemId,
        messages: s.messages,
        summary: `system ${systemId} sent ${s.fromSystem} MAVLink packets on ${a.link} (${types})`,
      },
    ],
    blind,
  };
}
