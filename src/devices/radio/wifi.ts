/**
 * Wi-Fi monitor captures. On a real rig: tcpdump on a monitor-mode interface, asking for
 * radiotap headers (`-y IEEE802_11_RADIO`) and writing each packet through (`-U`). On the
 * virtual rig (`interface: virtual`): the virtual Wi-Fi monitor child inside the drone's
 * namespace, which turns what crosses the air link into radiotap 802.11 frames.
 * Both write `radio-<name>.pcap`; decoding is src/analysis/radio/dot11.ts (readWifiCapture).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { RigWifiMonitor } from '../../config/types.js';
import { ChildCapture, virtualRadioCapture } from './child-capture.js';
import { RadioFaultError } from './errors.js';
import type { RadioLog } from './sweep.js';

export interface WifiCaptureContext {
  runDir: string;
  /** Namespace of the drone (virtual rig only). */
  droneNetns?: string;
  /** Interface of the air link inside that namespace (default air0). */
  airInterface?: string;
  onFault?: (err: RadioFaultError) => void;
  log?: RadioLog;
  /** tcpdump binary override (tests). */
  tcpdump?: string;
}

export function wifiCaptureFile(name: string): string {
  return `radio-${name}.pcap`;
}

export function createWifiCapture(cfg: RigWifiMonitor, ctx: WifiCaptureContext): ChildCapture {
  const file = wifiCaptureFile(cfg.name);
  const full = path.join(ctx.runDir, file);
  if (cfg.interface === 'virtual') {
    const channelMhz = cfg.channel ? (cfg.channel <= 14 ? 2407 + cfg.channel * 5 : 5000 + cfg.channel * 5) : 2437;
    return virtualRadioCapture({ name: cfg.name, kind: 'wifi', tool: 'virtual-wifi', script: 'virtual-wifi', file, args: ['--channel', String(channelMhz)] }, ctx);
  }
  if (cfg.channel !== undefined) {
    const r = spawnSync('iw', ['dev', cfg.interface, 'set', 'channel', String(cfg.channel)], { encoding: 'utf8' });
    if (r.status !== 0) {
      throw new RadioFaultError('AIRLOCK_RADIO_TOOL_START', cfg.name, 'iw', `could not set ${cfg.interface} to channel ${cfg.channel}: ${r.error?.message ?? r.stderr.trim()}`);
    }
  }
  return new ChildCapture({
    name: cfg.name,
    kind: 'wifi',
    tool: 'tcpdump',
    argv: [ctx.tcpdump ?? 'tcpdump', '-i', cfg.interface, '-y', 'IEEE802_11_RADIO', '-U', '-Z', 'root', '-w', full],
    runDir: ctx.runDir,
    file,
    output: 'self',
    ready: 'file',
    onFault: ctx.onFault,
    log: ctx.log,
  });
}
