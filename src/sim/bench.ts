/**
 * The virtual bench: the lab network plus the simulated instruments on it. For every
 * `sim:NAME` port of the rig file it makes a socat PTY pair and starts the matching
 * simulator (supply, relay board) as its own process on one end; the drivers open the other
 * end through serialport exactly as they would a USB adapter. Each supply channel and relay
 * contact is wired to the firmware host of the device it powers or whose button it presses,
 * so what the simulators report derives from the firmware processes' real state.
 * Serial MAVLink links (`serial:sim:NAME:BAUD`) get a PTY pair whose far end becomes the
 * drone firmware's telemetry port.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pino from 'pino';
import type { RigConfig } from '../config/types.js';
import { InputError, RigFaultError } from '../errors.js';
import { nodeScript } from '../child-script.js';
import { cleanupStale, VirtualLab } from './lab/index.js';
import { runStateDir } from './lab/state.js';
import { sendDeviceAction, type FirmwareSpec } from './firmware/firmware-host.js';
import { spawnInGroup } from '../process-groups.js';
import { reportFault } from '../devices/health/index.js';

interface PtyPair {
  /** Airlock's end (what drivers open). */
  dev: string;
  /** The simulator's or firmware's end. */
  sim: string;
  proc: ChildProcess;
}

type Wiring = { kind: 'load'; module: string; export: string; args: FirmwareSpec; role: 'power' | 'button' };

const FIRMWARE_HOST_MODULE = fileURLToPath(new URL('./firmware/firmware-host' + (import.meta.url.endsWith('.ts') ? '.ts' : '.js'), import.meta.url));

async function makePty(dir: string, name: string): Promise<PtyPair> {
  const dev = path.join(dir, `${name}.dev`);
  const sim = path.join(dir, `${name}.sim`);
  const proc = spawnInGroup('socat', [`pty,raw,echo=0,link=${dev}`, `pty,raw,echo=0,link=${sim}`], { stdio: 'ignore' });
  const deadline = Date.now() + 5000;
  while (!(existsSync(dev) && existsSync(sim))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new RigFaultError('AIRLOCK_SIM_PTY', name, 'socat', 'could not create the PTY pair (is socat installed?)');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { dev, sim, proc };
}

function waitReady(proc: ChildProcess, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new RigFaultError('AIRLOCK_SIM_START', name, 'start', `simulator did not start: ${err.trim()}`)), 15_000);
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"ready":true'));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new RigFaultError('AIRLOCK_SIM_START', name, 'start', `simulator exited (${code}): ${err.trim()}`));
    });
  });
}

export class VirtualBench {
  private readonly ptys = new Map<string, PtyPair>();
  private readonly sims = new Map<string, ChildProcess>();
  /** Network power switches (`netswitch`): their base URL on the loopback. */
  private readonly urls = new Map<string, string>();
  private stopping = false;

  private constructor(
    readonly lab: VirtualLab,
    private readonly rig: RigConfig,
    private readonly runDir: string,
    private readonly runId: string,
    private readonly dir: string,
    private readonly log: pino.Logger,
  ) {}

  static async start(opts: { rig: RigConfig; runDir: string; runId: string; log: pino.Logger }): Promise<VirtualBench> {
    const removed = await cleanupStale(opts.log);
    if (removed.length) opts.log.info({ removed }, 'removed leftovers of crashed runs');
    const lab = await VirtualLab.up({ runId: opts.runId, rig: opts.rig, runDir: opts.runDir, log: opts.log });
    const dir = path.join(runStateDir(opts.runId), 'bench');
    mkdirSync(dir, { recursive: true });
    const bench = new VirtualBench(lab, opts.rig, opts.runDir, opts.runId, dir, opts.log);
    try {
      await bench.build();
    } catch (error) {
      await bench.stop();
      throw error;
    }
    return bench;
  }

  /** `sim:NAME` -> Airlock's end of that simulator's PTY. */
  resolvePort(port: string): string {
    const name = port.slice('sim:'.length);
    const url = this.urls.get(name);
    if (url) return url;
    const pty = this.ptys.get(name);
    if (!pty) throw new InputError('AIRLOCK_SIM_UNKNOWN', `no simulator "${name}" on the virtual rig`);
    return pty.dev;
  }

  /** Process id of a simulator (tests kill one to check a rig fault is handled). */
  simulatorPid(name: string): number | undefined {
    return this.sims.get(name)?.pid;
  }

  async deviceAction(device: string, action: string): Promise<void> {
    if (!this.rig.devices[device]) throw new InputError('AIRLOCK_SIM_UNKNOWN_DEVICE', `no device "${device}" on the virtual rig`);
    if (!sendDeviceAction(this.runId, device, action)) {
      throw new RigFaultError('AIRLOCK_SIM_DEVICE_OFF', device, action, 'the device is not running (powered off?)');
    }
  }

  extraFiles(): string[] {
    return ['sinkhole.jsonl', ...Object.keys(this.rig.devices).map((d) => `console-${d}.log`)];
  }

  private firmwareSpec(device: string): FirmwareSpec {
    const d = this.rig.devices[device]!;
    const host = this.lab.host(device);
    const labHosts: Record<string, string> = {};
    for (const name of Object.keys(this.rig.devices)) labHosts[name] = this.lab.host(name).address;
    const hosts = this.lab.layout.hosts;
    const airPeer = device === 'drone' ? hosts.controller?.airAddress : device === 'controller' ? hosts.drone?.airAddress : undefined;
    const link = d.link ? this.rig.links[d.link] : undefined;
    let serial: string | undefined;
    let serialBaud: number | undefined;
    if (link) {
      const m = /^serial:sim:([^:]+):(\d+)$/.exec(link.endpoint);
      if (m) {
        serial = this.ptys.get(m[1]!)?.sim;
        serialBaud = Number(m[2]);
      }
    }
    return {
      runId: this.runId,
      device,
      netns: this.lab.netns(device),
      firmware: d.firmware ?? 'clean',
      params: d.firmwareParams,
      runDir: this.runDir,
      address: host.address,
      address6: host.address6,
      sinkhole: this.rig.lab.sinkhole,
      sinkhole6: this.rig.lab.sinkhole6,
      airPeer,
      labHosts,
      serial,
      serialBaud,
      systemId: link?.systemId,
      autopilot: link?.autopilot,
    };
  }

  private async build(): Promise<void> {
    // PTYs for MAVLink links first: firmware specs name their far ends.
    for (const link of Object.values(this.rig.links)) {
      const m = /^serial:sim:([^:]+):(\d+)$/.exec(link.endpoint);
      if (m) this.ptys.set(m[1]!, await makePty(this.dir, m[1]!));
    }
    // Which simulator serves which channels, inferred from the rig's power and button entries.
    const sims = new Map<string, { model: string; channels: Record<number, Wiring> }>();
    const deviceOf = (key: 'power' | 'button', entry: string) => Object.entries(this.rig.devices).find(([, d]) => d[key] === entry)?.[0];
    const add = (port: string | undefined, model: string, channel: number, device: string | undefined, what: string) => {
      if (!port?.startsWith('sim:')) return;
      const name = port.slice(4);
      const sim = sims.get(name) ?? { model, channels: {} };
      if (sim.model !== model) throw new InputError('AIRLOCK_SIM_MODEL', `simulator ${name} is used as both ${sim.model} and ${model} (${what})`);
      if (device) sim.channels[channel] = { kind: 'load', module: FIRMWARE_HOST_MODULE, export: 'makeFirmwareHost', args: this.firmwareSpec(device), role: what.startsWith('button') ? 'button' : 'power' };
      sims.set(name, sim);
    };
    for (const [name, p] of Object.entries(this.rig.power)) add(p.port, p.driver, p.channel, deviceOf('power', name), `power ${name}`);
    for (const [name, b] of Object.entries(this.rig.buttons)) add(b.port, b.driver, b.channel, deviceOf('button', name), `button ${name}`);

    // Simulators start in parallel: each is its own process on its own PTY.
    await Promise.all([...sims].map(([name, sim]) => this.startSimulator(name, sim)));
  }

  private async startSimulator(name: string, sim: { model: string; channels: Record<number, Wiring> }): Promise<void> {
    // A network power switch listens on a loopback HTTP port; the others sit on a PTY pair.
    const pty = sim.model === 'netswitch' ? undefined : await makePty(this.dir, name);
    if (pty) this.ptys.set(name, pty);
    const [cmd, ...args] = nodeScript(import.meta.url, './instruments/sim-main');
    const baud = Object.values(this.rig.power).find((p) => p.port === `sim:${name}`)?.baudRate;
    const proc = spawnInGroup(
      cmd!,
      [...args, '--model', sim.model, '--port', pty ? pty.sim : '0', '--channels', JSON.stringify(sim.channels), ...(baud ? ['--baud', String(baud)] : [])],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.sims.set(name, proc);
    const ready = await waitReady(proc, `simulator ${name}`);
    if (!pty) {
      const url = `http://127.0.0.1:${(JSON.parse(ready) as { port: number }).port}`;
      this.urls.set(name, url);
      // Recovery after a SIGKILL reaches the switch here (src/orchestrator/recover.ts).
      writeFileSync(path.join(this.dir, `${name}.url`), url + '\n');
    }
    proc.stdout?.resume();
    // A simulator that ends unasked is the instrument gone (its cable pulled): a rig fault at once.
    proc.once('exit', (code, signal) => {
      if (this.stopping) return;
      const devices = [...Object.entries(this.rig.power), ...Object.entries(this.rig.buttons)].filter(([, c]) => c.port === `sim:${name}`).map(([n]) => n);
      reportFault(new RigFaultError('AIRLOCK_SIM_DIED', devices.join(', ') || name, `simulator ${name}`, `the ${sim.model} simulator ${code !== null ? `exited with code ${code}` : `was killed by ${signal}`}`));
    });
    this.log.info({ sim: name, model: sim.model, pid: proc.pid, port: pty?.dev ?? this.urls.get(name) }, 'simulator started');
  }

  /** Stops simulators, PTYs, firmware and the lab. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const proc of this.sims.values()) {
      if (proc.exitCode === null) proc.kill('SIGTERM');
    }
    await new Promise((r) => setTimeout(r, 200));
    for (const proc of this.sims.values()) if (proc.exitCode === null) proc.kill('SIGKILL');
    for (const pty of this.ptys.values()) if (pty.proc.exitCode === null) pty.proc.kill('SIGTERM');
    this.sims.clear();
    await this.lab.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
