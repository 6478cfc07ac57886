/**
 * The simulator as the virtual rig runs it: a child process (sim-main) on a PTY or an HTTP
 * port, with its loads given as JSON, driven by the real drivers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, expect, it } from 'vitest';
import { nodeScript } from '../../src/child-script.js';
import { buttonDrivers, closeAllPorts, powerDrivers } from '../../src/devices/power/index.js';
import { openPtyPair, type PtyPair } from '../utils/pty.js';
import { context } from './harness.js';

const simMain = new URL('../../src/sim/instruments/sim-main.ts', import.meta.url).href;
let children: ChildProcess[] = [];
let ptys: PtyPair[] = [];
afterEach(async () => {
  await closeAllPorts();
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  for (const p of ptys) await p.close();
  children = [];
  ptys = [];
});

/** Start sim-main; resolve its ready line and a list collecting later stdout JSON lines. */
async function startSim(args: string[]): Promise<{ ready: { port: string | number }; lines: unknown[] }> {
  const [cmd, ...rest] = nodeScript(simMain, './sim-main');
  const child = spawn(cmd, [...rest, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: unknown[] = [];
  const rl = createInterface({ input: child.stdout! });
  const ready = await new Promise<{ port: string | number }>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`simulator not ready: ${stderr}`)), 15000);
    child.once('exit', (code) => reject(new Error(`simulator exited ${code}: ${stderr}`)));
    rl.on('line', (l) => {
      const j = JSON.parse(l) as { ready?: boolean; port: string | number };
      if (j.ready) {
        clearTimeout(t);
        resolve(j);
      } else lines.push(j);
    });
  });
  return { ready, lines };
}

it('serves a Korad supply with a built-in resistor on a PTY', async () => {
  const pty = await openPtyPair();
  ptys.push(pty);
  await startSim(['--model', 'korad', '--port', pty.b, '--channels', JSON.stringify({ 1: { kind: 'resistor', ohms: 8 } })]);
  const ch = powerDrivers.korad({ name: 'drone', driver: 'korad', port: 'sim:psu', channel: 1, volts: 12, currentLimit: 2, timeoutMs: 500 }, context({ psu: pty.a }));
  await ch.on();
  expect(await ch.read()).toEqual({ on: true, volts: 12, amps: 1.5 });
  await ch.off();
  expect(await ch.read()).toEqual({ on: false, volts: 0, amps: 0 });
  await ch.close();
});

it('serves an LCUS board whose relay 2 is a button contact, and a load from a module', async () => {
  const pty = await openPtyPair();
  ptys.push(pty);
  const loadModule = new URL('../fixtures/power/constant-load.ts', import.meta.url).pathname;
  const { lines } = await startSim([
    '--model',
    'lcus',
    '--port',
    pty.a,
    '--channels',
    JSON.stringify({ 1: { kind: 'load', module: loadModule, export: 'constantLoad', args: { amps: 0.7 } }, 2: { kind: 'contact' } }),
  ]);
  const btn = buttonDrivers.lcus({ name: 'drone-button', driver: 'lcus', port: pty.b, channel: 2, timeoutMs: 300 }, context({}));
  await btn.press('short');
  await new Promise((r) => setTimeout(r, 100));
  expect(lines.map((l) => (l as { contact: number; closed: boolean }).closed)).toEqual([true, false]);
  expect((lines as { contact: number }[]).every((l) => l.contact === 2)).toBe(true);
  await btn.close();
});

it('serves a Shelly switch on a loopback HTTP port', async () => {
  const { ready } = await startSim(['--model', 'netswitch', '--port', '0', '--channels', JSON.stringify({ 1: { kind: 'resistor', ohms: 460 } })]);
  const ch = powerDrivers.netswitch({ name: 'charger', driver: 'netswitch', port: `http://127.0.0.1:${ready.port}`, channel: 1, timeoutMs: 1000 }, context({}));
  await ch.on();
  expect(await ch.read()).toEqual({ on: true, volts: 230, amps: 0.5 });
  await ch.off();
  expect((await ch.read()).amps).toBe(0);
});

it('drives only the wired side of a device that is both a load and a button (role)', async () => {
  const pty = await openPtyPair();
  ptys.push(pty);
  const mod = new URL('../fixtures/power/constant-load.ts', import.meta.url).pathname;
  const { lines } = await startSim([
    '--model',
    'lcus',
    '--port',
    pty.a,
    '--channels',
    JSON.stringify({
      1: { kind: 'load', module: mod, export: 'deviceBothSides', args: { name: 'phone' }, role: 'power' },
      2: { kind: 'load', module: mod, export: 'deviceBothSides', args: { name: 'drone' }, role: 'button' },
    }),
  ]);
  const ctx = context({});
  const power = powerDrivers.lcus({ name: 'phone', driver: 'lcus', port: pty.b, channel: 1, timeoutMs: 300 }, ctx);
  const btn = buttonDrivers.lcus({ name: 'drone-button', driver: 'lcus', port: pty.b, channel: 2, timeoutMs: 300 }, ctx);
  await power.on();
  await btn.press('short');
  await new Promise((r) => setTimeout(r, 100));
  expect(lines).toEqual([
    { device: 'phone', powered: true },
    { device: 'drone', closed: true },
    { device: 'drone', closed: false },
  ]);
  await btn.close();
  await power.close();
});
