/**
 * Fault matrix, a network power switch unreachable (docs/technician/faults.md): the phone is
 * on a Shelly-style switch (RPC over HTTP) on this rig variant; the switch stops answering
 * (its process paused: a pulled network cable looks the same from here). The power recorder's
 * next request gets no reply within the channel's timeout: a rig fault, safing at once, and
 * the switch's channel reported failed, never off.
 */
import { describe, expect, it } from 'vitest';
import { checkRow, pidsOf, runWithFault } from './fault-run.js';

describe('fault matrix: network power switch', () => {
  it('switch unreachable: exit 4 naming the phone channel, phone failed, the rest off', { timeout: 120_000 }, async () => {
    const f = await runWithFault(
      ({ runId }) => {
        const pids = pidsOf(`sim-main.*--model netswitch.*"runId":"${runId}"`);
        expect(pids.length).toBe(1);
        process.kill(pids[0]!, 'SIGSTOP');
      },
      { args: ['--rig', 'test/fixtures/faults/virtual-netswitch.yaml'] },
    );
    checkRow(f, { exitCode: 4, code: /^AIRLOCK_POWER_/, device: /^phone$/, failed: ['phone'] });
    expect(f.result.fault!.message).toMatch(/no reply within 3000 ms/);
  });
});
