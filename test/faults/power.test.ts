/**
 * Fault matrix, power rows (docs/technician/faults.md): a supply that falls silent, a supply
 * that answers garbage, a relay board unplugged. Each is seen at the power recorder's next
 * poll (reply timeout 3 s on the virtual rig) or at once when the port closes, and the run is
 * safed at once; the channel the fault took is reported as failed, never as off.
 */
import { describe, expect, it } from 'vitest';
import { checkRow, pidsOf, runWithFault } from './fault-run.js';

const supplyPid = (runId: string) => pidsOf(`sim-main.*--model scpi --port /run/airlock/${runId}/bench/psu-a`);

describe.concurrent('fault matrix: power', () => {
  it('supply silent: detected at the next poll, exit 4, drone channel failed, the rest off', { timeout: 120_000 }, async () => {
    const f = await runWithFault(({ runId }) => {
      const pids = supplyPid(runId);
      expect(pids.length).toBe(1);
      process.kill(pids[0]!, 'SIGUSR2'); // the simulator stops answering (fault mode "silence")
    });
    checkRow(f, { exitCode: 4, code: /^AIRLOCK_POWER_/, device: /^drone$/, failed: ['drone'] });
    expect(f.result.fault!.message).toMatch(/no reply|timed out|within/);
  });

  it('supply answering garbage: exit 4 naming the drone supply, drone channel failed', { timeout: 120_000 }, async () => {
    const f = await runWithFault(({ runId }) => {
      const pids = supplyPid(runId);
      expect(pids.length).toBe(1);
      process.kill(pids[0]!, 'SIGUSR1'); // fault mode "garbage"
    });
    checkRow(f, { exitCode: 4, code: /^AIRLOCK_POWER_/, device: /^drone$/, failed: ['drone'] });
  });

  it('relay board unplugged: the port closing is a fault at once, exit 4, phone channel failed', { timeout: 120_000 }, async () => {
    const f = await runWithFault(({ runId }) => {
      // The board's USB link: the PTY pair Airlock's driver holds open goes away.
      const pids = pidsOf(`socat pty,raw,echo=0,link=/run/airlock/${runId}/bench/relay.dev`);
      expect(pids.length).toBe(1);
      process.kill(pids[0]!, 'SIGKILL');
    });
    checkRow(f, { exitCode: 4, device: /phone/, failed: ['phone'], detectWithinMs: 4000 });
  });
});
