/**
 * The virtual rig's lab network (docs/technician/virtual-rig.md):
 *
 *   lab namespace  al<run>-lab : bridge br0, one port per host named after the host
 *   host namespaces al<run>-<host> : eth0 on the bridge; default routes (v4, v6) via the sinkhole
 *   sinkhole namespace al<run>-sinkhole : the lab's gateway; answers, logs, never forwards
 *   "the air": veth air0 <-> air0 directly between drone and controller, on the last /30 of the
 *     lab's first IPv4 subnet (e.g. 10.231.0.252/30: drone .253, controller .254)
 *
 * Every link is created inside the lab's own namespaces: nothing ever touches the host
 * namespace, so no lab host has any route to the host machine's networks.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { isIPv4, isIPv6 } from 'node:net';
import type pino from 'pino';
import type { RigConfig, RigNetworkCapture } from '../../config/types.js';
import { nodeScript } from '../../child-script.js';
import { spawnInGroup } from '../../process-groups.js';
import { reportFault, reportWriteError } from '../../devices/health/index.js';
import { nftRuleset } from '../../devices/sinkhole/index.js';
import { LabConfigError, LabError, LabFaultError } from './errors.js';
import { ipBatch, killNetnsProcesses, listNetns, run } from './exec.js';
import { lastSlash30, parseCidr, prefixFor } from './addr.js';
import { faultFilter, faultLinks, faultWirings, type FaultWiring } from './capture-faults.js';
import { buildVlanProgram, notVlanBytecode } from './vlan.js';
import type { FirmwareSpec } from '../firmware/firmware-host.js';
import { sendDeviceAction } from '../firmware/firmware-host.js';
import { ownedByMe, ownerAlive, processStartTime, readLines, runStateDir, stateRoot, writeOwner } from './state.js';
import { killRecordedGroups } from '../../process-groups.js';

/** Ports of the sinkhole's catch-all listeners (every TCP/UDP port is redirected to them). */
/**
 * Fixed radio addresses of the air link's two ends (locally administered), so a scenario's
 * `radio_only` can name the drone's and controller's transmitters.
 */
export const AIR_MAC = { drone: '02:a1:00:00:00:10', controller: '02:a1:00:00:00:11' } as const;

export const SINKHOLE_TCP_PORT = 10001;
export const SINKHOLE_UDP_PORT = 10002;

export interface LabHost {
  name: string;
  netns: string;
  address: string;
  prefix: number;
  address6?: string;
  prefix6?: number;
  /** Address on the air link (drone and controller only). */
  airAddress?: string;
  /** 802.1Q VLAN its link carries its traffic in (rig option for tests; vlan.ts). */
  vlan?: number;
}

export interface LabLayout {
  runId: string;
  labNetns: string;
  hosts: Record<string, LabHost>;
  sinkhole: LabHost;
  /** The air link's /30, when the lab has a drone and a controller. */
  air?: { cidr: string; drone: string; controller: string };
  /** Captures made blind on purpose (rig option `fault`, for tests): how each is wired. */
  faults: Record<string, FaultWiring>;
}

export interface LabUpOptions {
  runId: string;
  rig: RigConfig;
  runDir: string;
  log?: pino.Logger;
  /** Start the sinkhole process (default true). The network (incl. nftables) is built either way. */
  sinkhole?: boolean;
}

const HOST_NAME = /^[a-z][a-z0-9_-]{0,14}$/;
const RESERVED = new Set(['lab', 'sinkhole', 'br0', 'eth0', 'lo', 'air0']);
const RUN_ID = /^[a-z0-9]{3,12}$/;

export function netnsName(runId: string, host: string): string {
  return `al${runId}-${host}`;
}

/** Works out names and addresses from the rig file; throws LabConfigError on what cannot be built. */
export function layoutLab(runId: string, rig: RigConfig): LabLayout {
  if (!RUN_ID.test(runId)) throw new LabConfigError(`run id "${runId}" must be 3-12 lowercase letters or digits`);
  const subnets = rig.lab.subnets;
  const mk = (name: string, address: string | undefined, address6: string | undefined): LabHost => {
    if (!address || !isIPv4(address)) throw new LabConfigError(`lab host ${name}: needs an IPv4 address (got ${address ?? 'none'})`);
    const prefix = prefixFor(subnets, address);
    if (prefix === null) throw new LabConfigError(`lab host ${name}: ${address} is in none of the lab subnets ${subnets.join(', ')}`);
    const h: LabHost = { name, netns: netnsName(runId, name), address, prefix };
    if (address6) {
      if (!isIPv6(address6)) throw new LabConfigError(`lab host ${name}: bad IPv6 address ${address6}`);
      const p6 = prefixFor(subnets, address6);
      if (p6 === null) throw new LabConfigError(`lab host ${name}: ${address6} is in none of the lab subnets`);
      h.address6 = address6;
      h.prefix6 = p6;
    }
    return h;
  };
  const sinkhole = mk('sinkhole', rig.lab.sinkhole, rig.lab.sinkhole6);
  const hosts: Record<string, LabHost> = {};
  for (const [name, dev] of Object.entries(rig.devices)) {
    if (!dev.address) continue; // a device without a network interface
    if (!HOST_NAME.test(name) || RESERVED.has(name)) {
      throw new LabConfigError(`device name "${name}" cannot name a lab interface (lowercase, at most 15 characters, not ${[...RESERVED].join('/')})`);
    }
    hosts[name] = mk(name, dev.address, dev.address6);
    if (dev.vlan !== undefined) hosts[name]!.vlan = dev.vlan;
  }
  const faults = faultWirings(Object.values(rig.captures.network), [...Object.keys(hosts), 'sinkhole']);
  const layout: LabLayout = { runId, labNetns: netnsName(runId, 'lab'), hosts, sinkhole, faults };
  const drone = hosts.drone;
  const controller = hosts.controller;
  if (drone && controller) {
    const first = subnets.map(parseCidr).find((c) => c?.family === 4);
    if (!first || first.prefix > 29) throw new LabConfigError('the air link needs a first IPv4 lab subnet of /29 or larger');
    const [net, a, b] = lastSlash30(first);
    for (const h of [...Object.values(hosts), sinkhole]) {
      if (h.address === a || h.address === b) throw new LabConfigError(`${h.name}'s address ${h.address} collides with the air link ${net}/30`);
    }
    drone.airAddress = a;
    controller.airAddress = b;
    layout.air = { cidr: `${net}/30`, drone: a, controller: b };
  }
  return layout;
}

/**
 * `tc -batch` lines (lab namespace) for the switch's ports: a tagged link's port takes the tag off
 * what its host sends and puts it on what goes to it (vlan.ts), and the mirrors of
 * capture-faults.ts copy every frame the port receives (ingress: from its host) and sends
 * (egress: to its host) to the mirror link, as it is on the wire: tagged where the link is.
 * So a mirror copies ingress frames before the tag comes off and egress frames after it went on;
 * `continue` lets the next filter of the hook run after a copy.
 */
function portCommands(L: LabLayout, programs: Map<number, string>): string[] {
  const lines: string[] = [];
  const ports = new Set<string>();
  for (const h of Object.values(L.hosts)) if (h.vlan !== undefined) ports.add(h.name);
  for (const f of Object.values(L.faults)) if (f.port) ports.add(f.port);
  for (const port of ports) {
    lines.push(`qdisc add dev ${port} clsact`);
    const vid = L.hosts[port]?.vlan;
    const obj = vid !== undefined ? programs.get(vid) : undefined;
    const mirrors = Object.values(L.faults).filter((f) => f.port === port && f.peer);
    const mirror = (dir: string, prio: number) =>
      mirrors.map((f) => {
        const drop = typeof f.fault === 'object' && 'mirrorDropsVlan' in f.fault ? f.fault.mirrorDropsVlan : undefined;
        const match = drop !== undefined ? `bpf bytecode "${notVlanBytecode(drop)}"` : 'u32 match u32 0 0';
        return `filter add dev ${port} ${dir} prio ${prio} ${match} action mirred egress mirror dev ${f.peer} continue`;
      });
    lines.push(...mirror('ingress', 1));
    if (obj) lines.push(`filter add dev ${port} ingress prio 2 bpf da obj ${obj} sec tc_pop`, `filter add dev ${port} egress prio 1 bpf da obj ${obj} sec tc_push`);
    lines.push(...mirror('egress', 2));
  }
  return lines;
}

function sh(netns: string, script: string): Promise<unknown> {
  return run(['ip', 'netns', 'exec', netns, 'sh', '-c', script]);
}

function nftRules(): string {
  // The ruleset a real gateway's `airlock sinkhole --nft` installs, on every interface of the namespace.
  return nftRuleset({ table: 'airlock', tcpPort: SINKHOLE_TCP_PORT, udpPort: SINKHOLE_UDP_PORT });
}

export class VirtualLab {
  readonly runId: string;
  readonly layout: LabLayout;
  readonly runDir: string;
  readonly stateDir: string;
  private readonly log?: pino.Logger;
  private sinkholeProc?: ChildProcess;
  private sinkholeLines: ((line: string) => void)[] = [];
  private downDone = false;
  private downStarted = false;

  private readonly sinkholeLogPath?: string;

  private constructor(layout: LabLayout, runDir: string, log?: pino.Logger, sinkholeLogPath?: string) {
    this.runId = layout.runId;
    this.layout = layout;
    this.runDir = runDir;
    this.stateDir = runStateDir(layout.runId);
    this.log = log;
    this.sinkholeLogPath = sinkholeLogPath;
  }

  static async up(opts: LabUpOptions): Promise<VirtualLab> {
    const layout = layoutLab(opts.runId, opts.rig);
    const lab = new VirtualLab(layout, opts.runDir, opts.log, opts.rig.lab.sinkholeLog?.path);
    if (fs.existsSync(lab.stateDir) && !ownedByMe(lab.stateDir)) throw new LabError('AIRLOCK_LAB_EXISTS', `a lab with run id ${opts.runId} already exists (${lab.stateDir})`);
    if (fs.existsSync(lab.stateDir)) {
      // The run's own state dir (src/orchestrator/run-state.ts made it, with this process as owner).
      fs.mkdirSync(path.join(lab.stateDir, 'firmware'), { recursive: true });
      fs.writeFileSync(path.join(lab.stateDir, 'layout.json'), JSON.stringify(layout, null, 2));
      fs.writeFileSync(path.join(lab.stateDir, 'netns'), lab.allNetns().join('\n') + '\n');
    } else {
      // Written aside and renamed into place, so cleanupStale never sees a run without its owner.
      const tmp = path.join(stateRoot(), `.${opts.runId}.${process.pid}.tmp`);
      fs.mkdirSync(path.join(tmp, 'firmware'), { recursive: true });
      writeOwner(tmp);
      fs.writeFileSync(path.join(tmp, 'layout.json'), JSON.stringify(layout, null, 2));
      fs.writeFileSync(path.join(tmp, 'netns'), lab.allNetns().join('\n') + '\n');
      fs.renameSync(tmp, lab.stateDir);
    }
    try {
      await lab.build();
      if (opts.sinkhole !== false) await lab.startSinkhole();
    } catch (e) {
      // The build error is the one to report; a failed clean-up is logged (the next start removes leftovers).
      await lab.down().catch((downError: unknown) => lab.log?.warn({ err: downError }, 'removing a half-built lab'));
      throw e;
    }
    lab.log?.info({ runId: lab.runId, netns: lab.allNetns() }, 'virtual lab up');
    return lab;
  }

  allNetns(): string[] {
    return [this.layout.labNetns, this.layout.sinkhole.netns, ...Object.values(this.layout.hosts).map((h) => h.netns)];
  }

  hostNames(): string[] {
    return Object.keys(this.layout.hosts);
  }

  host(name: string): LabHost {
    const h = name === 'sinkhole' ? this.layout.sinkhole : this.layout.hosts[name];
    if (!h) throw new LabConfigError(`no lab host named "${name}" (hosts: ${[...this.hostNames(), 'sinkhole'].join(', ')})`);
    return h;
  }

  /** Namespace name of a host ('drone', 'controller', 'phone', 'sinkhole', or 'lab'). */
  netns(host: string): string {
    if (host === 'lab') return this.layout.labNetns;
    return this.host(host).netns;
  }

  /**
   * Where a `captures.network.<x>.interface` of the virtual rig is: a host name is that host's
   * port on the lab bridge (in the lab namespace); `air0` (or `air`) is the drone's end of the
   * air link; `br0` is the bridge; `<host>:<iface>` names an interface inside a host namespace.
   */
  captureTarget(iface: string): { netns: string; iface: string } {
    if (iface === 'air' || iface === 'air0') {
      if (!this.layout.air) throw new LabConfigError('this lab has no air link (needs a drone and a controller)');
      return { netns: this.netns('drone'), iface: 'air0' };
    }
    if (iface === 'br0') return { netns: this.layout.labNetns, iface: 'br0' };
    const colon = iface.indexOf(':');
    if (colon > 0) return { netns: this.netns(iface.slice(0, colon)), iface: iface.slice(colon + 1) };
    this.host(iface);
    return { netns: this.layout.labNetns, iface };
  }

  /**
   * Where and how a network capture listens: captureTarget, except for a capture made blind on
   * purpose (capture-faults.ts), which gets its own interface, its filter, or a step to take once
   * libpcap has the interface open.
   */
  captureWiring(cfg: RigNetworkCapture): { netns: string; iface: string; filter?: string; afterStart?: () => Promise<void> } {
    const w = this.layout.faults[cfg.name];
    const filter = faultFilter(cfg.fault, cfg.filter);
    if (!w?.iface) return { ...this.captureTarget(cfg.interface), ...(filter !== undefined ? { filter } : {}) };
    const netns = this.layout.labNetns;
    const iface = w.iface;
    const afterStart =
      w.fault === 'interface_down'
        ? async () => {
            await ipBatch([`link set ${iface} down`], netns);
            this.log?.warn({ capture: cfg.name, iface }, 'capture interface set down (rig option fault: interface_down)');
          }
        : undefined;
    return { netns, iface, ...(filter !== undefined ? { filter } : {}), ...(afterStart ? { afterStart } : {}) };
  }

  private async build(): Promise<void> {
    const L = this.layout;
    const all = [L.sinkhole, ...Object.values(L.hosts)];
    await ipBatch(this.allNetns().map((n) => `netns add ${n}`));
    // No IPv6 addresses on the bridge or its ports: it is a switch, not a host (no RS/MLD
    // noise of its own in the captures).
    const lab = ['link set lo up', 'link add br0 type bridge forward_delay 0 mcast_snooping 0', 'link set br0 addrgenmode none', 'link set br0 up'];
    for (const h of all) {
      lab.push(
        `link add ${h.name} type veth peer name eth0 netns ${h.netns}`,
        `link set ${h.name} addrgenmode none`,
        `link set ${h.name} master br0`,
        `link set ${h.name} up`,
      );
    }
    const drone = L.hosts.drone;
    const controller = L.hosts.controller;
    if (L.air && drone && controller) lab.push(`link add air0 address ${AIR_MAC.drone} netns ${drone.netns} type veth peer name air0 address ${AIR_MAC.controller} netns ${controller.netns}`);
    lab.push(...faultLinks(L.faults));
    await ipBatch(lab, L.labNetns);
    // VLAN tags on the links that carry them (vlan.ts): the host's eth0 and the switch's port.
    const programs = new Map<number, string>();
    for (const h of Object.values(L.hosts)) {
      if (h.vlan === undefined || programs.has(h.vlan)) continue;
      programs.set(h.vlan, await buildVlanProgram(this.stateDir, h.vlan));
    }
    for (const h of Object.values(L.hosts)) {
      if (h.vlan === undefined) continue;
      const obj = programs.get(h.vlan)!;
      const tagging = ['qdisc add dev eth0 clsact', `filter add dev eth0 egress prio 1 bpf da obj ${obj} sec tc_push`, `filter add dev eth0 ingress prio 1 bpf da obj ${obj} sec tc_pop`];
      await run(['tc', '-n', h.netns, '-batch', '-'], { input: tagging.join('\n') + '\n' });
    }
    const ports = portCommands(L, programs);
    if (ports.length > 0) await run(['tc', '-n', L.labNetns, '-batch', '-'], { input: ports.join('\n') + '\n' });
    await Promise.all(
      all.map(async (h) => {
        const cmds = ['link set lo up', `addr add ${h.address}/${h.prefix} dev eth0`];
        if (h.address6) cmds.push(`addr add ${h.address6}/${h.prefix6} dev eth0 nodad`);
        cmds.push('link set eth0 up');
        if (h !== L.sinkhole) {
          if (L.sinkhole.address) cmds.push(`route add default via ${L.sinkhole.address} dev eth0`);
          if (h.address6 && L.sinkhole.address6) cmds.push(`route add ::/0 via ${L.sinkhole.address6} dev eth0`);
        }
        if (h.airAddress) cmds.push(`addr add ${h.airAddress}/30 dev air0`, 'link set air0 up');
        await ipBatch(cmds, h.netns);
      }),
    );
    const nftFile = path.join(this.stateDir, 'sinkhole.nft');
    fs.writeFileSync(nftFile, nftRules());
    await sh(
      L.sinkhole.netns,
      `echo 0 > /proc/sys/net/ipv4/ip_forward && echo 0 > /proc/sys/net/ipv6/conf/all/forwarding && exec nft -f ${nftFile}`,
    );
  }

  private async startSinkhole(): Promise<void> {
    const s = this.layout.sinkhole;
    const [node, ...script] = nodeScript(import.meta.url, '../sinkhole/main');
    const args = [...script, '--log', this.sinkholeLogFile(), '--address', s.address];
    // Tests shorten the heartbeat to make a gap quickly (test/e2e/gateway-sinkhole.test.ts).
    if (process.env.AIRLOCK_SINKHOLE_HEARTBEAT_MS) args.push('--heartbeat-ms', process.env.AIRLOCK_SINKHOLE_HEARTBEAT_MS);
    if (s.address6) args.push('--address6', s.address6);
    args.push('--tcp-port', String(SINKHOLE_TCP_PORT), '--udp-port', String(SINKHOLE_UDP_PORT), '--state', this.stateDir);
    fs.mkdirSync(this.runDir, { recursive: true });
    const errLog = fs.openSync(path.join(this.runDir, 'sinkhole.err.log'), 'a');
    const proc = spawnInGroup('ip', ['netns', 'exec', s.netns, node!, ...args], { stdio: ['pipe', 'pipe', errLog] });
    fs.closeSync(errLog);
    this.sinkholeProc = proc;
    proc.stdin!.on('error', () => undefined);
    // The sinkhole ending unasked leaves the lab without its gateway and witness: a rig fault.
    proc.once('exit', (code, signal) => {
      if (this.downStarted) return;
      reportFault(new LabFaultError('sinkhole', `the sinkhole ${code !== null ? `exited with code ${code}` : `was killed by ${signal}`}; see sinkhole.err.log in the run directory`));
    });
    let buf = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.includes('"writeFailed":true')) {
          const m = JSON.parse(line) as { code?: string; error?: string };
          reportWriteError('sinkhole.jsonl', Object.assign(new Error(m.error ?? 'write failed'), { code: m.code }));
          continue;
        }
        const waiter = this.sinkholeLines.shift();
        waiter?.(line);
      }
    });
    const ready = await this.nextSinkholeLine(15000, 'start');
    if (!ready.includes('"ready"')) throw new LabError('AIRLOCK_LAB_SINKHOLE', `sinkhole did not start: ${ready}`);
  }

  private nextSinkholeLine(timeoutMs: number, what: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const proc = this.sinkholeProc;
      if (!proc || proc.exitCode !== null) return reject(new LabError('AIRLOCK_LAB_SINKHOLE', `sinkhole is not running (${what})`));
      const onExit = () => done(new LabError('AIRLOCK_LAB_SINKHOLE', `sinkhole exited (${what}); see sinkhole.err.log in the run directory`));
      const timer = setTimeout(() => done(new LabError('AIRLOCK_LAB_SINKHOLE', `sinkhole did not answer within ${timeoutMs} ms (${what})`)), timeoutMs);
      const waiter = (line: string) => done(undefined, line);
      const done = (err?: Error, line?: string) => {
        clearTimeout(timer);
        proc.off('exit', onExit);
        const i = this.sinkholeLines.indexOf(waiter);
        if (i >= 0) this.sinkholeLines.splice(i, 1);
        if (err) reject(err);
        else resolve(line!);
      };
      this.sinkholeLines.push(waiter);
      proc.once('exit', onExit);
    });
  }

  /** Switches a sinkhole service (`lab` steps): `uplink` answers like the Internet, `update-server` offers an update. */
  async setService(service: 'uplink' | 'update-server', on: boolean): Promise<void> {
    if (!this.sinkholeProc) throw new LabError('AIRLOCK_LAB_SINKHOLE', 'the sinkhole is not running');
    const reply = this.nextSinkholeLine(5000, `set ${service}`);
    this.sinkholeProc.stdin!.write(JSON.stringify({ service, on }) + '\n');
    const line = await reply;
    if (!line.includes('"ok":true')) throw new LabError('AIRLOCK_LAB_SINKHOLE', `sinkhole refused ${service}=${on}: ${line}`);
    this.log?.info({ service, on }, 'lab service switched');
  }

  /**
   * The spec a FirmwareHost for `device` needs (plain JSON: hand it to the power simulator's
   * `load` wiring). `firmware` is a built-in profile name or a shell command; default from the rig.
   */
  firmwareSpec(device: string, opts: { firmware?: string; params?: Record<string, string>; serial?: string; serialBaud?: number; systemId?: number; rig?: RigConfig } = {}): FirmwareSpec {
    const h = this.host(device);
    const L = this.layout;
    const dev = opts.rig?.devices[device];
    const airPeer = device === 'drone' ? L.hosts.controller?.airAddress : device === 'controller' ? L.hosts.drone?.airAddress : undefined;
    const labHosts: Record<string, string> = {};
    for (const [n, x] of Object.entries(L.hosts)) labHosts[n] = x.address;
    return {
      runId: this.runId,
      device,
      netns: h.netns,
      firmware: opts.firmware ?? dev?.firmware ?? 'clean',
      params: opts.params ?? dev?.firmwareParams,
      runDir: this.runDir,
      address: h.address,
      address6: h.address6,
      sinkhole: L.sinkhole.address,
      sinkhole6: L.sinkhole.address6,
      airPeer,
      labHosts,
      serial: opts.serial,
      serialBaud: opts.serialBaud,
      systemId: opts.systemId,
    };
  }

  /** A `device` step on the virtual rig: the action goes to the device's running firmware. Returns false when none runs. */
  sendDeviceAction(device: string, action: string): boolean {
    this.host(device);
    return sendDeviceAction(this.runId, device, action);
  }

  /** Path of the sinkhole's record file (see readSinkholeLog). */
  sinkholeLogFile(): string {
    // With lab.sinkhole_log the virtual sinkhole writes where a gateway's would (a shared
    // directory), and `run` fetches the run's span from there as on a real bench.
    return this.sinkholeLogPath ?? path.join(this.runDir, 'sinkhole.jsonl');
  }

  /** Closes the sinkhole's stdin and gives it 2 s to write its stop line before the namespaces go. */
  private async stopSinkhole(): Promise<void> {
    const proc = this.sinkholeProc;
    if (!proc) return;
    proc.stdin?.end();
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Tears everything down: every process in the run's namespaces, the namespaces, the state dir. Idempotent. */
  async down(): Promise<void> {
    if (this.downDone) return;
    this.downStarted = true;
    await this.stopSinkhole();
    await destroyRun(this.runId, this.allNetns());
    this.downDone = true;
    this.log?.info({ runId: this.runId }, 'virtual lab down');
  }
}

/** Kills the processes of a run's namespaces, deletes the namespaces and the run's state dir. */
export async function destroyRun(runId: string, netns: string[]): Promise<void> {
  const existing = new Set(await listNetns());
  const mine = netns.filter((n) => existing.has(n));
  await killNetnsProcesses(mine);
  await killFirmwareGroups(runId);
  // Every process group the run started (simulators, PTYs, captures, radio tools, sinkhole).
  await killRecordedGroups(path.join(runStateDir(runId), 'groups'));
  if (mine.length) await ipBatch(mine.map((n) => `netns del ${n}`), undefined, true);
  fs.rmSync(runStateDir(runId), { recursive: true, force: true });
}

/** SIGKILLs recorded firmware process groups (belt and braces: they live in the namespaces too). */
async function killFirmwareGroups(runId: string): Promise<void> {
  const dir = path.join(runStateDir(runId), 'firmware');
  let files: string[] = [];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return;
  }
  for (const f of files) {
    try {
      const st = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { pgid?: number };
      if (st.pgid) process.kill(-st.pgid, 'SIGKILL');
    } catch {
      /* gone or unreadable */
    }
  }
}

/**
 * Removes the leftovers of runs whose owning process is dead: their processes, namespaces and
 * state. A live run's lab is never touched. Returns the run ids removed.
 */
export async function cleanupStale(log?: pino.Logger): Promise<string[]> {
  return cleanupStaleExcept(new Set(), log);
}

/** cleanupStale, leaving alone the run ids in `keep` (a recovery in progress owns them). */
export async function cleanupStaleExcept(keep: Set<string>, log?: pino.Logger): Promise<string[]> {
  let ids: string[] = [];
  try {
    ids = fs.readdirSync(stateRoot());
  } catch {
    return [];
  }
  const removed: string[] = [];
  // Half-made state dirs (`.<id>.<pid>.tmp`) of builders that died before renaming them.
  for (const name of ids) {
    const m = /^\.([a-z0-9]+)\.(\d+)\.tmp$/.exec(name);
    if (m && processStartTime(Number(m[2])) === null) fs.rmSync(path.join(stateRoot(), name), { recursive: true, force: true });
  }
  for (const id of ids) {
    const dir = runStateDir(id);
    if (!RUN_ID.test(id) || ownerAlive(dir) || keep.has(id)) continue;
    // A dead run with a run directory to finalise is src/orchestrator/recover.ts's: it switches
    // the rig off through its drivers first, then calls destroyRun.
    if (fs.existsSync(path.join(dir, 'run.json'))) continue;
    const listed = readLines(path.join(dir, 'netns'));
    const prefix = netnsName(id, '');
    const found = (await listNetns()).filter((n) => n.startsWith(prefix));
    await destroyRun(id, [...new Set([...listed, ...found])]);
    log?.warn({ runId: id }, 'removed the leftovers of a crashed run');
    removed.push(id);
  }
  return removed;
}
