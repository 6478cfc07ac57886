/**
 * Fault matrix, a serial device disappearing and re-appearing (USB re-enumeration), on the
 * relay board (docs/technician/faults.md): its PTY pair goes away and a new one appears at
 * the same path, where this test plays the board. The port closing is a fault at once even
 * though the device comes back (what it did while away is unknown); safing reopens the path
 * and the relay receives the off command for the phone, read here byte for byte in the LCUS
 * protocol (A0 <relay> <state> <sum>).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { describe, expect, it } from 'vitest';
import { checkRow, pidsOf, runWithFault } from './fault-run.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fault matrix: USB re-enumeration', () => {
  it('relay board gone and back: exit 4 at once, safing switches the phone off through the board that came back', { timeout: 120_000 }, async () => {
    let socat: ChildProcess | undefined;
    let port: SerialPort | undefined;
    const received: Buffer[] = [];
    const comeBack = async (runId: string) => {
      const dir = `/run/airlock/${runId}/bench`;
      const old = pidsOf(`socat pty,raw,echo=0,link=${dir}/relay.dev`);
      expect(old.length).toBe(1);
      process.kill(old[0]!, 'SIGKILL');
      rmSync(`${dir}/relay.dev`, { force: true });
      rmSync(`${dir}/relay.sim`, { force: true });
      await sleep(50);
      // The same device paths again, a new adapter behind them.
      socat = spawn('socat', [`pty,raw,echo=0,link=${dir}/relay.dev`, `pty,raw,echo=0,link=${dir}/relay.sim`], { stdio: 'ignore', detached: true });
      for (let i = 0; i < 200 && !existsSync(`${dir}/relay.sim`); i++) await sleep(5);
      port = new SerialPort({ path: `${dir}/relay.sim`, baudRate: 9600 });
      port.on('data', (d: Buffer) => received.push(d));
    };
    const cleanup = async () => {
      if (port?.isOpen) await new Promise<void>((r) => port!.close(() => r()));
      try {
        if (socat?.pid) process.kill(-socat.pid, 'SIGKILL');
      } catch {
        // socat ends by itself when Airlock closes its side of the PTY
      }
      await sleep(100);
    };
    try {
      const f = await runWithFault(({ runId }) => void comeBack(runId));
      // The board this test played is put away before looking for the run's leftovers.
      await cleanup();
      checkRow(
        f,
        { exitCode: 4, code: /^AIRLOCK_(SERIAL_LOST|SIM_DIED)$/, device: /phone/, detectWithinMs: 3000 },
      );
      // The board that came back got the phone's off command: relay 1 open.
      const bytes = Buffer.concat(received).toString('hex');
      expect(bytes).toContain('a00100a1');
    } finally {
      await cleanup();
    }
  });
});
