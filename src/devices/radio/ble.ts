/**
 * BLE captures. On a real rig the rig names a command that writes a BLE pcap (link type 251,
 * 256 or 272) to stdout, for example an nRF Sniffer bridge; it runs under `sh -c` in its own
 * process group and its stdout is kept as `radio-<name>.pcap`. On the virtual rig
 * (`driver: virtual`) the virtual BLE sniffer child runs inside the drone's namespace and
 * writes the file itself (src/sim/radio/virtual-ble.ts). Decoding is src/analysis/radio/ble.ts.
 */
import type { RigBle } from '../../config/types.js';
import { ChildCapture, virtualRadioCapture } from './child-capture.js';
import type { RadioFaultError } from './errors.js';
import type { RadioLog } from './sweep.js';

export function createBleCapture(
  cfg: Pick<RigBle, 'name' | 'command'> & { driver?: RigBle['driver'] },
  ctx: { runDir: string; droneNetns?: string; airInterface?: string; onFault?: (err: RadioFaultError) => void; log?: RadioLog },
): ChildCapture {
  const file = `radio-${cfg.name}.pcap`;
  if (cfg.driver === 'virtual') return virtualRadioCapture({ name: cfg.name, kind: 'ble', tool: 'virtual-ble', script: 'virtual-ble', file }, ctx);
  return new ChildCapture({
    name: cfg.name,
    kind: 'ble',
    tool: cfg.command.split(/\s+/)[0] ?? 'ble-sniffer',
    argv: ['sh', '-c', cfg.command],
    runDir: ctx.runDir,
    file,
    output: 'stdout',
    ready: 'file',
    startTimeoutMs: 10_000,
    onFault: ctx.onFault,
    log: ctx.log,
  });
}
