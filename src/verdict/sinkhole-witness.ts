/**
 * The sinkhole as a second witness (issue 4): what it received, as the client addressed it.
 * Canary datagrams are left out here: the canary check accounts for them on its own.
 */
import { CANARY_PORT } from '../analysis/canary.js';
import { readSinkholeLog } from '../analysis/sinkhole-log.js';

export interface SinkholeRecord {
  timeMs: number;
  protocol: string;
  src?: string;
  dst: string;
  dstPort?: number;
}

export function readSinkholeRecords(file: string): SinkholeRecord[] {
  return readSinkholeLog(file)
    .filter((r) => r.dstPort !== CANARY_PORT && !r.truncated)
    .map((r) => ({ timeMs: r.t, protocol: r.proto, src: r.src, dst: r.dst, dstPort: r.dstPort }));
}
