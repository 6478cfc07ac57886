/**
 * Fault matrix, the MAVLink transport (docs/technician/faults.md): the telemetry radio's
 * serial device going away mid-run. Not a vehicle going quiet (a quiet phase expects that):
 * the rig lost its way to the vehicle, a rig fault at once.
 */
import { describe, expect, it } from 'vitest';
import { checkRow, pidsOf, runWithFault } from './fault-run.js';

describe('fault matrix: MAVLink transport', () => {
  it('the serial device of the telemetry link gone: exit 4 naming the link', { timeout: 120_000 }, async () => {
    const f = await runWithFault(({ runId }) => {
      const pids = pidsOf(`socat pty,raw,echo=0,link=/run/airlock/${runId}/bench/drone-telemetry.dev`);
      expect(pids.length).toBe(1);
      process.kill(pids[0]!, 'SIGKILL');
    });
    checkRow(f, { exitCode: 4, code: 'AIRLOCK_FLIGHT_TRANSPORT_LOST', device: 'drone', detectWithinMs: 3000 });
  });
});
