/**
 * BLE captures. On a real rig the rig names a command that writes a BLE pcap (link type 251,
 * 256 or 272) to stdout, for example an nRF Sniffer bridge; it runs under `sh -c` in its own
 * process group and its stdout is kept as `radio-<name>.pcap`. On the virtual rig
 * (`driver: virtual`) the virtual BLE sniffer child runs inside the drone's namespace and
 * writes the file itself (src/sim/radio/virtual-ble.ts). Decoding is src/analysis/radio/ble.ts.
 */
import path from 'node:path';
import type { RigBle } from '../../config/types.js';
import { nodeScript } from '../../child-script.js';
import { ChildCapture } from './child-capture.js';
import { RadioFaultError } from './errors.js';
import type { RadioLog } from './sweep.js';

export function createBleCapture(
  cfg: Pick<RigBle, 'name' | 'command'> & { driver?: RigBle['driver'] },
  ctx: { runDir: string; droneNetns?: string; airInterface?: string; onFault?: (err: RadioFaultError) => void; log?: RadioLog },
): ChildCapture {
  const file = `radio-${cfg.name}.pcap`;
  if (cfg.driver === 'virtual') {
    if (!ctx.droneNetns) throw new RadioFaultError('AIRLOCK_RADIO_TOOL_START', cfg.name, 'virtual-ble', 'the virtual BLE sniffer needs the drone namespace');
    return new ChildCapture({
      name: cfg.name,
      kind: 'ble',
      tool: 'virtual-ble',
      argv: ['ip', 'netns', 'exec', ctx.droneNetns, ...nodeScript(import.meta.url, '../../sim/radio/virtual-ble'), '--out', path.join(ctx.runDir, file), '--iface', ctx.airInterface ?? 'air0'],
      runDir: ctx.runDir,
      file,
      output: 'self',
      ready: { line: 'ready' },
      startTimeoutMs: 10_000,
      onFault: ctx.onFault,
      log: ctx.log,
    });
  }
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
