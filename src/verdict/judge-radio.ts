/** Radio assertions over the raw sweep CSVs and Wi-Fi/BLE captures of the run directory. */
import type { Assertion, RigBand } from '../config/types.js';
import type { RadioFinding } from '../analysis/finding.js';
import type { JudgeInput } from './input.js';

type RadioAssertion = Extract<Assertion, { kind: 'no_radio' | 'radio_only' | 'no_remote_id' | 'no_probe_requests' }>;

export async function judgeRadio(
  a: RadioAssertion,
  input: JudgeInput,
  w: { fromMs: number; toMs: number },
): Promise<{ findings: RadioFinding[]; blind: string[] }> {
  // Loaded on first use: runs without radio assertions never load the radio decoders.
  const { judgeNoProbeRequests, judgeNoRadio, judgeNoRemoteId, judgeRadioOnly } = await import('../analysis/radio/assertions.js');
  const blind: string[] = [];
  const findings: RadioFinding[] = [];
  const take = (r: { verdict: string; findings: RadioFinding[]; reason?: string }) => {
    findings.push(...r.findings);
    if (r.verdict === 'INCONCLUSIVE') blind.push(r.reason ?? 'radio data missing');
  };
  const lossy = (kind: string) => {
    for (const c of input.captures) if (c.kind === kind && c.lossy) blind.push(`radio capture ${c.name} is lossy: ${c.reason ?? ''}`);
  };
  if (a.kind === 'no_radio') {
    lossy('radio');
    const sweeps = input.captures.filter((c) => c.kind === 'radio');
    let judged = 0;
    for (const [sdrName, sdr] of Object.entries(input.rig.captures.sdr)) {
      const bands: RigBand[] = sdr.bands.filter((b) => a.bands.includes(b.name));
      if (bands.length === 0) continue;
      const rec = sweeps.find((c) => c.name === sdrName);
      const file = rec?.files.find((f) => f.endsWith('.csv'));
      if (!file) {
        blind.push(`no sweep record for ${sdrName}`);
        continue;
      }
      judged++;
      take(
        await judgeNoRadio({
          file,
          runDir: input.runDir,
          bands,
          threshold: a.threshold,
          floorDbm: input.floorsDbm,
          minDurationMs: a.minDurationMs,
          fromMs: w.fromMs,
          toMs: w.toMs,
        }),
      );
    }
    if (judged === 0 && blind.length === 0) blind.push(`no SDR on this rig covers ${a.bands.join(', ')}`);
    return { findings, blind };
  }
  lossy('wifi');
  lossy('ble');
  const files = input.captures.filter((c) => c.kind === 'wifi' || c.kind === 'ble').flatMap((c) => c.files);
  if (files.length === 0) return { findings, blind: [...blind, 'no Wi-Fi or BLE capture on this rig'] };
  const common = { runDir: input.runDir, fromMs: w.fromMs, toMs: w.toMs };
  if (a.kind === 'radio_only') {
    for (const file of files) take(await judgeRadioOnly({ file, transmitters: a.transmitters, ...common }));
  } else if (a.kind === 'no_remote_id') take(await judgeNoRemoteId({ files, ...common }));
  else take(await judgeNoProbeRequests({ files, ...common }));
  return { findings, blind };
}
