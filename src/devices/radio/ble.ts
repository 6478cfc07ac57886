/**
 * BLE captures: the rig names a command that writes a BLE pcap (link type 251, 256 or 272)
 * to stdout, for example an nRF Sniffer bridge; it runs under `sh -c` in its own process
 * group and its stdout is kept as `radio-<name>.pcap`. Decoding is src/analysis/radio/ble.ts.
 */
import type { RigBle } from '../../config/types.js';
import { ChildCapture } from './child-capture.js';
import type { RadioFaultError } from './errors.js';
import type { RadioLog } from './sweep.js';

export function createBleCapture(cfg: RigBle, ctx: { runDir: string; onFault?: (err: RadioFaultError) => void; log?: RadioLog }): ChildCapture {
  return new ChildCapture({
    name: cfg.name,
    kind: 'ble',
    tool: cfg.command.split(/\s+/)[0] ?? 'ble-sniffer',
    argv: ['sh', '-c', cfg.command],
    runDir: ctx.runDir,
    file: `radio-${cfg.name}.pcap`,
    output: 'stdout',
    ready: 'file',
    startTimeoutMs: 10_000,
    onFault: ctx.onFault,
    log: ctx.log,
  });
}
