/**
 * Radio captures of a rig: SDR sweeps, Wi-Fi monitors, BLE sniffers. The registry maps the
 * rig file's SDR `driver` to its command builder (src/devices/radio/sweep.ts).
 */
import type { RigConfig, RigSdr } from '../../config/types.js';
import type { Capture } from '../capture/capture.js';
import { SweepCapture, measureFloor, sweepCommands, type RadioLog } from './sweep.js';
import { createWifiCapture } from './wifi.js';
import { createBleCapture } from './ble.js';
import type { RadioFaultError } from './errors.js';

export { SweepCapture, measureFloor, sweepCommands };
export type { RadioLog };
export { RadioFaultError, RadioConfigError } from './errors.js';
export { createWifiCapture } from './wifi.js';
export { createBleCapture } from './ble.js';

/** SDR drivers the rig file may name. */
export const sdrDrivers: Record<RigSdr['driver'], string> = {
  hackrf_sweep: 'HackRF One via hackrf_sweep (1 MHz - 6 GHz)',
  rtl_power: 'RTL-SDR via rtl_power (about 24 - 1766 MHz; not 2.4/5.8 GHz)',
  virtual: 'the virtual rig: power from the bytes crossing the air link',
};

export interface RadioContext {
  runDir: string;
  /** Namespace of a lab host on the virtual rig (`drone`, `controller`); throws on a real rig. */
  netnsOf(host: string): string;
  log?: RadioLog;
  /** A radio tool fault after start (the orchestrator safes the rig). */
  onFault?: (err: RadioFaultError) => void;
}

/** The host whose namespace holds the air link's monitor end on the virtual rig. */
const AIR_HOST = 'drone';

export function createRadioCaptures(rig: RigConfig, ctx: RadioContext): Capture[] {
  const out: Capture[] = [];
  for (const sdr of Object.values(rig.captures.sdr)) {
    out.push(
      new SweepCapture({
        sdr,
        runDir: ctx.runDir,
        netns: sdr.driver === 'virtual' && !sdr.command ? ctx.netnsOf(AIR_HOST) : undefined,
        onFault: ctx.onFault,
        log: ctx.log,
      }),
    );
  }
  for (const w of Object.values(rig.captures.wifi)) {
    out.push(createWifiCapture(w, { runDir: ctx.runDir, droneNetns: w.interface === 'virtual' ? ctx.netnsOf(AIR_HOST) : undefined, onFault: ctx.onFault, log: ctx.log }));
  }
  for (const b of Object.values(rig.captures.ble)) {
    out.push(createBleCapture(b, { runDir: ctx.runDir, droneNetns: b.driver === 'virtual' ? ctx.netnsOf(AIR_HOST) : undefined, onFault: ctx.onFault, log: ctx.log }));
  }
  return out;
}

/**
 * Preflight: the noise floor (dBm) of every band of every SDR, measured with every device off.
 * Keyed by band name (a band name used by two SDRs keeps the later one's floor).
 */
export async function measureFloors(rig: RigConfig, ctx: RadioContext, durationMs = 1500): Promise<Record<string, number>> {
  const floors: Record<string, number> = {};
  for (const sdr of Object.values(rig.captures.sdr)) {
    const f = await measureFloor(
      { sdr, runDir: ctx.runDir, netns: sdr.driver === 'virtual' && !sdr.command ? ctx.netnsOf(AIR_HOST) : undefined, log: ctx.log },
      durationMs,
    );
    Object.assign(floors, f);
  }
  return floors;
}
