/** Whether a window's network evidence can prove absence: drops, damage, canaries, the sinkhole as second witness. */
import type { WindowData } from './window-data.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** Why the network evidence of a window cannot prove absence (empty when it can). */
export async function networkBlindness(data: WindowData): Promise<string[]> {
  const reasons: string[] = [];
  const { input, window } = data;
  const netCaptures = input.captures.filter((c) => c.kind === 'network');
  if (netCaptures.length === 0) reasons.push('no network capture on this rig');
  for (const c of netCaptures) if (c.lossy) reasons.push(`capture ${c.name} is lossy: ${c.reason ?? 'packets dropped'}`);
  const scan = await data.network();
  for (const d of scan.damage) reasons.push(`${d.file} is damaged at byte offset ${d.offset}: ${d.reason}`);

  // Canaries: every canary sent in the window (but its last second) must be in every capture it crosses.
  if (input.canaries) {
    const seen = new Set(scan.canaries.map((c) => `${c.file}|${c.host}|${c.seq}|${c.target}`));
    const fileOf = new Map(netCaptures.map((c) => [c.name, c.files[0] ?? '']));
    let missing = 0;
    let first = '';
    for (const c of input.canaries.sent) {
      if (c.sentAtMs < window.fromMs || c.sentAtMs >= window.toMs - 1000) continue;
      for (const capName of input.canaries.capturesFor[c.host] ?? []) {
        const file = fileOf.get(capName);
        if (!file) continue;
        if (!seen.has(`${file}|${c.host}|${c.seq}|${c.target}`)) {
          missing++;
          first ||= `canary ${c.host}#${c.seq} to ${c.target} sent at ${iso(c.sentAtMs)} is missing from ${file}`;
        }
      }
    }
    if (missing > 0) reasons.push(`${missing} canar${missing === 1 ? 'y' : 'ies'} missing (the capture was blind): ${first}`);
  } else if (input.rig.virtual) {
    reasons.push('no canaries were sent: the capture cannot show it could see');
  }

  // The sinkhole is a second witness: a connection it saw that no capture holds means blindness.
  const flows = scan.flows;
  for (const r of data.sinkholeRecords()) {
    // When the sinkhole could not recover the original destination (`::`), match by source.
    const knownDst = r.dst !== '::' && r.dst !== '0.0.0.0' && r.dst !== '';
    const hit = flows.some((f) =>
      knownDst
        ? f.dst === r.dst && (r.dstPort === undefined || f.dstPort === r.dstPort) && (r.src === undefined || f.src === r.src)
        : f.src === r.src && f.protocol.startsWith(r.protocol === 'dns' ? 'dns' : ''),
    );
    if (!hit) {
      reasons.push(`the sinkhole saw ${r.protocol} ${r.src ?? '?'} -> ${r.dst}:${r.dstPort ?? ''} at ${iso(r.timeMs)} but no capture holds it`);
      break;
    }
  }
  return reasons;
}

