/**
 * A PTY pair through socat for the MAVLink tests (local to test/mavlink so these tests do not
 * wait on the shared helper). Both links are waited for; `close()` kills socat by its pid.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface PtyPair {
  a: string;
  b: string;
  close(): Promise<void>;
}

export async function openPtyPair(): Promise<PtyPair> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-mav-pty-'));
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 5000;
  while (!(fs.existsSync(a) && fs.existsSync(b) && /starting data transfer loop/.test(stderr))) {
    if (child.exitCode !== null) throw new Error(`socat exited: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`socat did not create its PTYs in 5 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    a,
    b,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
