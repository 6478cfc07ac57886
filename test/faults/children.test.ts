/**
 * Fault matrix, child processes (docs/technician/faults.md): a network capture child that
 * crashes, the radio tool (the virtual SDR sweeping the air) dying, the sinkhole crashing.
 * Each child's exit is reported the moment it happens; the run is safed at once and every
 * capture written so far, the crashed one included, still reads with tcpdump.
 */
import { readlinkSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkRow, pidsOf, runWithFault } from './fault-run.js';

describe.concurrent('fault matrix: children', () => {
  it('a capture child crashing: exit 4 naming the capture, its pcap still readable', { timeout: 120_000 }, async () => {
    const f = await runWithFault(({ runDir }) => {
      const pids = pidsOf(`capture-child.*--file ${runDir}/net-phone.pcap`);
      expect(pids.length).toBe(1);
      process.kill(pids[0]!, 'SIGKILL');
    });
    checkRow(f, { exitCode: 4, code: 'AIRLOCK_CAPTURE_DIED', device: 'capture phone', detectWithinMs: 3000 });
    const phone = f.result.captures.find((c) => c.name === 'phone')!;
    expect(phone.lossy).toBe(true);
  });

  it('the radio tool dying: exit 4 naming the SDR capture', { timeout: 120_000 }, async () => {
    const f = await runWithFault(({ runId }) => {
      // The sweeping child of this run: the one in this run's drone namespace.
      const ns = `net:[${statSync(`/run/netns/al${runId}-drone`).ino}]`;
      const mine = pidsOf('virtual-sdr-child').filter((p) => netnsOf(p) === ns);
      expect(mine.length).toBe(1);
      process.kill(mine[0]!, 'SIGKILL');
    });
    checkRow(f, { exitCode: 4, code: 'AIRLOCK_RADIO_TOOL_EXITED', device: 'air', detectWithinMs: 3000 });
  });

  it('the sinkhole crashing: exit 4 naming the sinkhole', { timeout: 120_000 }, async () => {
    const f = await runWithFault(({ runId }) => {
      const pids = pidsOf(`sinkhole/main.*--state /run/airlock/${runId}`);
      expect(pids.length).toBeGreaterThan(0);
      for (const p of pids) process.kill(p, 'SIGKILL');
    });
    checkRow(f, { exitCode: 4, code: 'AIRLOCK_LAB_PART_DIED', device: 'sinkhole', detectWithinMs: 3000 });
  });
});

function netnsOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return '';
  }
}
