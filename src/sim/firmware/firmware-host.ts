/**
 * A device host of the virtual rig seen from its power supply and its power button: the load
 * (SimLoad) and the button contact (SimButtonContact) of one device.
 *
 * Power on starts the firmware command inside the device's namespace as its own process group;
 * a power cut SIGKILLs the group; a long press (closure held >= 1 s) sends the main process
 * SIGTERM (soft power-off: the firmware decides what keeps running) or, when the firmware is
 * off but powered, starts it again. The current drawn is derived from the processes' real
 * state in /proc, never from a flag.
 *
 * The supply and relay simulators run as separate processes, so every fact lives in the run's
 * state dir (`/run/airlock/<run>/firmware/<device>.json`): any process holding a FirmwareHost
 * for the same device (and VirtualLab.down) sees the same group.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeScript } from '../../child-script.js';
import { groupMembers } from '../../process-groups.js';
import type { SimButtonContact, SimLoad } from '../instruments/sim-load.js';
import { processStartTime, runStateDir } from '../lab/state.js';
import { FirmwareError } from './errors.js';
import { isProfileName } from './profiles/index.js';

/** Everything a firmware host needs, as plain JSON (it crosses into simulator child processes). */
export interface FirmwareSpec {
  runId: string;
  device: string;
  netns: string;
  /** A built-in profile name (see PROFILES) or a shell command. */
  firmware: string;
  params?: Record<string, string>;
  runDir: string;
  /** The device's lab address(es). */
  address?: string;
  address6?: string;
  sinkhole?: string;
  sinkhole6?: string;
  /** The other end of the air link (controller for the drone and vice versa). */
  airPeer?: string;
  /** Lab host name -> IPv4 address (the phone app talks to the controller). */
  labHosts?: Record<string, string>;
  /** PTY path of the device's telemetry port, when it has a MAVLink link. */
  serial?: string;
  serialBaud?: number;
  systemId?: number;
  /** The link's autopilot: which flavour the virtual vehicle is. */
  autopilot?: string;
}

interface HostState {
  powered: boolean;
  pid?: number;
  pgid?: number;
  /** Start time of pid (from /proc), against pid reuse. */
  start?: string;
  startedAt?: number;
  /** The main process is a shell running a compound command: its children are signalled too. */
  shell?: boolean;
}

export const LONG_PRESS_MS = 1000;
export const AMPS_ON = 1.0;
export const AMPS_STANDBY = 0.15;
export const AMPS_OFF = 0.002;

export function firmwareStateDir(runId: string): string {
  return path.join(runStateDir(runId), 'firmware');
}

/**
 * Whether a firmware command is one simple command (`/opt/fw/run --flag`), which `exec` can
 * replace the shell with. Anything that may be a list, a pipeline, a subshell or a compound
 * command is not; quoting is not parsed, so a quoted `;` also counts as compound (the safe side:
 * a compound command's shell children are signalled as well).
 */
export function isSimpleCommand(command: string): boolean {
  const c = command.trim();
  if (c === '' || /[;&|()`\n{}]/.test(c)) return false;
  return !/^(if|for|while|until|case|!)(\s|$)/.test(c);
}

/**
 * argv that runs the firmware of a spec: a profile entry, or the command through `sh -c`. A simple
 * command is run as `exec command`, so the process the soft power-off signals is the program the
 * user named, not a shell that would not pass the signal on (dash does not).
 */
export function firmwareArgv(spec: FirmwareSpec): string[] {
  if (isProfileName(spec.firmware)) return [...nodeScript(import.meta.url, './main'), '--profile', spec.firmware];
  if (isSimpleCommand(spec.firmware)) return ['sh', '-c', /^exec\s/.test(spec.firmware.trim()) ? spec.firmware : `exec ${spec.firmware.trim()}`];
  return ['sh', '-c', spec.firmware];
}

export function firmwareEnv(spec: FirmwareSpec): NodeJS.ProcessEnv {
  const { AIRLOCK_SIGNING_KEY: _secret, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = {
    // The firmware under test never sees Airlock's signing key.
    ...inherited,
    AIRLOCK_DEVICE: spec.device,
    AIRLOCK_NETNS: spec.netns,
    AIRLOCK_RUN_DIR: spec.runDir,
    AIRLOCK_ACTIONS: path.join(firmwareStateDir(spec.runId), `${spec.device}.actions`),
  };
  const set = (k: string, v: string | number | undefined) => {
    if (v !== undefined) env[k] = String(v);
  };
  set('AIRLOCK_ADDRESS', spec.address);
  set('AIRLOCK_ADDRESS6', spec.address6);
  set('AIRLOCK_SINKHOLE', spec.sinkhole);
  set('AIRLOCK_SINKHOLE6', spec.sinkhole6);
  set('AIRLOCK_AIR_PEER', spec.airPeer);
  set('AIRLOCK_SERIAL', spec.serial);
  set('AIRLOCK_SERIAL_BAUD', spec.serialBaud);
  set('AIRLOCK_SYSTEM_ID', spec.systemId);
  set('AIRLOCK_AUTOPILOT', spec.autopilot);
  if (spec.labHosts) env.AIRLOCK_LAB_HOSTS = Object.entries(spec.labHosts).map(([k, v]) => `${k}=${v}`).join(' ');
  for (const [k, v] of Object.entries(spec.params ?? {})) env[`AIRLOCK_PARAM_${k.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = v;
  return env;
}

function alive(pid: number | undefined, start: string | undefined): boolean {
  if (!pid) return false;
  const now = processStartTime(pid);
  return now !== null && (start === undefined || now === start);
}

export class FirmwareHost implements SimLoad, SimButtonContact {
  readonly spec: FirmwareSpec;
  private readonly stateFile: string;
  private pressTimer?: NodeJS.Timeout;
  /** Children we started, kept so Node reaps them. */
  private readonly children = new Set<ChildProcess>();

  constructor(spec: FirmwareSpec) {
    this.spec = spec;
    const dir = firmwareStateDir(spec.runId);
    fs.mkdirSync(dir, { recursive: true });
    this.stateFile = path.join(dir, `${spec.device}.json`);
  }

  private read(): HostState {
    try {
      return JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as HostState;
    } catch {
      return { powered: false };
    }
  }

  private write(s: HostState): void {
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(s));
    fs.renameSync(tmp, this.stateFile);
  }

  /** The firmware's main process, when it runs. */
  mainPid(): number | undefined {
    const s = this.read();
    return alive(s.pid, s.start) ? s.pid : undefined;
  }

  /** Every live process of the firmware's group (main and whatever it left behind). */
  groupPids(): number[] {
    const s = this.read();
    return s.pgid ? groupMembers(s.pgid) : [];
  }

  isPowered(): boolean {
    return this.read().powered;
  }

  setPowered(on: boolean): void {
    const s = this.read();
    if (on) {
      if (s.powered) return;
      this.start({ powered: true });
    } else {
      killGroup(s.pgid);
      this.write({ powered: false });
    }
  }

  private start(prev: HostState): void {
    killGroup(prev.pgid); // a boot starts from nothing: whatever lingered is gone
    const argv = firmwareArgv(this.spec);
    fs.mkdirSync(this.spec.runDir, { recursive: true });
    const consoleFd = fs.openSync(path.join(this.spec.runDir, `console-${this.spec.device}.log`), 'a');
    let child: ChildProcess;
    try {
      // `ip netns exec` execs the command in place: the pid we get is the firmware's, and
      // `detached` makes it the leader of its own process group.
      child = spawn('ip', ['netns', 'exec', this.spec.netns, ...argv], {
        detached: true,
        stdio: ['ignore', consoleFd, consoleFd],
        env: firmwareEnv(this.spec),
      });
    } finally {
      fs.closeSync(consoleFd);
    }
    if (!child.pid) throw new FirmwareError('AIRLOCK_FIRMWARE_START', `${this.spec.device}: could not start ${argv.join(' ')}`);
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    child.on('error', () => undefined);
    child.unref();
    const shell = !isProfileName(this.spec.firmware) && !isSimpleCommand(this.spec.firmware);
    this.write({ powered: true, pid: child.pid, pgid: child.pid, start: processStartTime(child.pid) ?? undefined, startedAt: Date.now(), ...(shell ? { shell } : {}) });
  }

  setClosed(closed: boolean): void {
    if (closed) {
      if (!this.pressTimer) this.pressTimer = setTimeout(() => this.longPress(), LONG_PRESS_MS);
    } else if (this.pressTimer) {
      clearTimeout(this.pressTimer);
      this.pressTimer = undefined;
    }
  }

  /** What a long press does: soft power-off when running, boot when off but powered. */
  longPress(): void {
    this.pressTimer = undefined;
    const s = this.read();
    if (!s.powered) return;
    if (alive(s.pid, s.start)) {
      signalFirmware(s, 'SIGTERM');
    } else {
      this.start(s);
    }
  }

  amps(volts: number): number {
    const s = this.read();
    if (!s.powered || volts <= 0) return 0;
    const jitter = (Math.random() - 0.5) * 0.04;
    if (alive(s.pid, s.start)) return AMPS_ON + jitter;
    if (s.pgid && groupMembers(s.pgid).length > 0) return AMPS_STANDBY + jitter / 4;
    return AMPS_OFF;
  }

  /** Delivers a `device` step's action (`app: background`) to the firmware: a line in its actions file, then SIGUSR1. */
  sendDeviceAction(action: string): boolean {
    return sendDeviceAction(this.spec.runId, this.spec.device, action);
  }
}

export function sendDeviceAction(runId: string, device: string, action: string): boolean {
  const dir = firmwareStateDir(runId);
  fs.appendFileSync(path.join(dir, `${device}.actions`), action.replace(/\n/g, ' ') + '\n');
  try {
    const s = JSON.parse(fs.readFileSync(path.join(dir, `${device}.json`), 'utf8')) as HostState;
    if (s.pid && alive(s.pid, s.start)) {
      signalFirmware(s, 'SIGUSR1');
      return true;
    }
  } catch {
    /* no firmware running */
  }
  return false;
}

/** Direct children of `pid` (from /proc), in the process group `pgid`. */
function childrenOf(pid: number, pgid: number): number[] {
  return groupMembers(pgid).filter((p) => {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'latin1');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ', 3)[1]) === pid;
    } catch {
      return false;
    }
  });
}

/** Whether `pid` has a handler for `signal` (SigCgt in /proc/<pid>/status). */
function catches(pid: number, signal: NodeJS.Signals): boolean {
  try {
    const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m !== null && ((BigInt('0x' + m[1]) >> BigInt(os.constants.signals[signal] - 1)) & 1n) === 1n;
  } catch {
    return false;
  }
}

/**
 * Sends a signal to the firmware the user named: its main process (the program itself, exec'd
 * over the shell), and, when that is a shell running a compound command, the shell's children
 * too. A power cut is not this: it kills the whole group (killGroup).
 */
function signalFirmware(s: HostState, signal: NodeJS.Signals): void {
  // The wrapping shell of a compound command gets a device action (SIGUSR1) only when it catches
  // it (an inline firmware's own trap): dash dies of an uncaught SIGUSR1, and the firmware would
  // then look switched off (its main process gone) while its children run on.
  const shellToo = signal === 'SIGTERM' || catches(s.pid!, signal);
  const targets = s.shell && s.pgid ? [...childrenOf(s.pid!, s.pgid), ...(shellToo ? [s.pid!] : [])] : [s.pid!];
  for (const pid of targets) {
    try {
      process.kill(pid, signal);
    } catch {
      /* that process exited since it was listed (ESRCH): it needs no signal */
    }
  }
}

function killGroup(pgid: number | undefined): void {
  if (!pgid) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* the group has no process left (ESRCH): nothing lingers that could run on */
  }
}

/** This module's file, for the power simulators' `load` wiring (`module`). */
export const FIRMWARE_HOST_MODULE = fileURLToPath(import.meta.url);

/** Power simulator wiring of a supply output: `{kind:'load', module: FIRMWARE_HOST_MODULE, export:'makeFirmwareHost', args: spec}`. */
export function makeFirmwareHost(spec: FirmwareSpec): FirmwareHost {
  return new FirmwareHost(spec);
}

/**
 * Relay simulator wiring of a button contact: `{kind:'load', module: FIRMWARE_HOST_MODULE,
 * export:'makeFirmwareButton', args: spec}`. Only a contact (no `amps`), so a relay board never
 * mistakes the button for a load it powers.
 */
export function makeFirmwareButton(spec: FirmwareSpec): SimButtonContact {
  const host = new FirmwareHost(spec);
  return { setClosed: (closed) => host.setClosed(closed) };
}
