/**
 * The sinkhole as a second witness (issue 4): what it received, as the client addressed it.
 * Canary datagrams are left out here: the canary check accounts for them on its own.
 *
 * On a bench whose rig file names `lab.sinkhole_log`, Airlock did not run the sinkhole itself:
 * `run` fetched the gateway's log into the run directory (src/rig/sinkhole-fetch.ts). There the
 * witness counts only where the log shows the sinkhole was running (its liveness lines); a log
 * that could not be fetched, a gap, or lines that are not the sinkhole's make the window
 * INCONCLUSIVE, because a connection the sinkhole never logged cannot be missed by the check.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CANARY_PORT } from '../analysis/canary.js';
import { readSinkholeLogFile, sinkholeGap, type SinkholeLog } from '../analysis/sinkhole-log.js';

export interface SinkholeRecord {
  timeMs: number;
  protocol: string;
  src?: string;
  dst: string;
  dstPort?: number;
}

/** The file names src/rig/sinkhole-fetch.ts writes (kept here: the engine imports nothing above it). */
const SINKHOLE_FILE = 'sinkhole.jsonl';
const SINKHOLE_FETCH_FILE = 'sinkhole-fetch.json';

export function readSinkholeFile(runDir: string): SinkholeLog {
  return readSinkholeLogFile(path.join(runDir, SINKHOLE_FILE));
}

export function sinkholeRecordsOf(log: SinkholeLog): SinkholeRecord[] {
  return log.records
    .filter((r) => r.dstPort !== CANARY_PORT && !r.truncated)
    .map((r) => ({ timeMs: r.t, protocol: r.proto, src: r.src, dst: r.dst, dstPort: r.dstPort }));
}


/** Why the gateway's log cannot stand witness for [fromMs, toMs): empty when it can. */
export function gatewayLogProblems(runDir: string, log: SinkholeLog, fromMs: number, toMs: number): string[] {
  let fetch: { source?: string; error?: string; rejected?: number; firstRejected?: { line: number; why: string } };
  try {
    fetch = JSON.parse(readFileSync(path.join(runDir, SINKHOLE_FETCH_FILE), 'utf8')) as typeof fetch;
  } catch {
    return [`the rig names a gateway sinkhole log (lab.sinkhole_log), but the run directory has no ${SINKHOLE_FETCH_FILE}: the log was never fetched`];
  }
  if (fetch.error) return [`the gateway sinkhole's log could not be read (${fetch.error}): nothing witnesses the connections the captures may have missed`];
  const out: string[] = [];
  if (fetch.rejected) {
    out.push(`the gateway sinkhole's log holds ${fetch.rejected} line(s) in the run's span that are not sinkhole records (first: line ${fetch.firstRejected?.line ?? '?'} of the part read, ${fetch.firstRejected?.why ?? '?'}): the log cannot be trusted`);
  }
  const gap = sinkholeGap(log.liveness, fromMs, toMs);
  if (gap) out.push(`${gap}: the gateway sinkhole cannot witness this window`);
  return out;
}
