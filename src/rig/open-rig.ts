/**
 * Turns a rig file into a rig session: the concrete drivers, captures and (on the virtual
 * rig) the lab and its simulators. This is the one place that knows both the registries and
 * the virtual rig; the orchestrator sees only the RigSession it returns.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import type pino from 'pino';
import type { RigConfig } from '../config/types.js';
import { InputError, RigFaultError } from '../errors.js';
import type { RigSession, FlightControl, CanarySource } from './session.js';
import { buttonDrivers, closeAllPorts, powerDrivers, PowerRecorder, type Button, type PowerChannel } from '../devices/power/index.js';
import { createFlightLink } from '../devices/flight/index.js';
import type { Capture } from '../devices/capture/capture.js';
import { NetworkCapture } from '../devices/capture/net-capture.js';
import { CanarySender, type CanaryInjector } from '../devices/capture/canary-sender.js';
import { CANARY_LEDGER_FILE } from '../verdict/canary-ledger.js';
import { nodeScript } from '../child-script.js';
import { createRadioCaptures, measureFloors } from '../devices/radio/index.js';
import { reportFault } from '../devices/health/index.js';
import type { VirtualBench } from '../sim/bench.js';

export interface OpenRigContext {
  runDir: string;
  runId: string;
  log: pino.Logger;
  prompt?: (text: string, timeoutMs: number) => Promise<void>;
}

const noTerminal = async (text: string) => {
  throw new RigFaultError('AIRLOCK_RIG_NO_TECHNICIAN', 'technician', 'prompt', `no terminal to ask: "${text}"`);
};

/** Waits for a line matching `pattern` in a growing text file (a device console). */
async function waitForLine(file: string, pattern: RegExp, signal: AbortSignal): Promise<void> {
  let offset = 0;
  let carry = '';
  const scan = async (): Promise<boolean> => {
    if (!existsSync(file)) return false;
    const stream = createReadStream(file, { start: offset, encoding: 'utf8' });
    for await (const chunk of stream as AsyncIterable<string>) {
      offset += Buffer.byteLength(chunk);
      const lines = (carry + chunk).split('\n');
      carry = lines.pop() ?? '';
      if (lines.some((l) => pattern.test(l))) return true;
    }
    return pattern.test(carry);
  };
  while (!signal.aborted) {
    if (await scan()) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 200);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  throw new Error('aborted');
}

/** True when the interface exists (in a namespace: asked with `ip -n`, else /sys/class/net). */
function interfaceExists(iface: string, netns?: string): Promise<boolean> {
  if (!netns) return Promise.resolve(existsSync(`/sys/class/net/${iface}`));
  return new Promise((resolve) => {
    const child = spawn('ip', ['-n', netns, 'link', 'show', 'dev', iface], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

function runShell(command: string, log: pino.Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      log.debug({ command, code, reply: out.slice(0, 2000) }, 'device action');
      if (code === 0) resolve();
      else reject(new RigFaultError('AIRLOCK_RIG_ACTION_FAILED', 'device action', command, `exited ${code}: ${out.trim().slice(0, 200)}`));
    });
  });
}

export async function openRig(rig: RigConfig, ctx: OpenRigContext): Promise<RigSession> {
  const { log, runDir } = ctx;
  const prompt = ctx.prompt ?? noTerminal;
  let bench: VirtualBench | undefined;
  // The simulators are loaded only for the virtual rig: a real bench's run imports no simulator code.
  if (rig.virtual) bench = await (await import('../sim/bench.js')).VirtualBench.start({ rig, runDir, runId: ctx.runId, log: log.child({ part: 'virtual-rig' }) });
  try {
    const resolvePort = (port: string): string => {
      if (!port.startsWith('sim:')) return port;
      if (!bench) throw new InputError('AIRLOCK_RIG_SIM_PORT', `port ${port} names a simulator, but the rig is not virtual`);
      return bench.resolvePort(port);
    };
    const driverCtx = (device: string) => ({ log: log.child({ device }), resolvePort, prompt });

    const power = new Map<string, PowerChannel>();
    for (const [name, cfg] of Object.entries(rig.power)) power.set(name, powerDrivers[cfg.driver](cfg, driverCtx(name)));
    const buttons = new Map<string, Button>();
    for (const [name, cfg] of Object.entries(rig.buttons)) buttons.set(name, buttonDrivers[cfg.driver](cfg, driverCtx(name)));
    const links = new Map<string, FlightControl & { open(): Promise<void> }>();
    for (const [name, cfg] of Object.entries(rig.links)) {
      links.set(name, createFlightLink(cfg, { log: log.child({ link: name }), resolvePort, tlogPath: path.join(runDir, `mavlink-${name}.tlog`) }));
    }

    const captures: Capture[] = [];
    for (const [name, cfg] of Object.entries(rig.captures.network)) {
      // The virtual rig wires a capture the rig made blind on purpose (`fault`, for tests) its own way.
      const target = bench ? bench.lab.captureWiring(cfg) : { netns: undefined, iface: cfg.interface, filter: cfg.filter };
      captures.push(
        new NetworkCapture({
          name,
          netns: target.netns,
          iface: target.iface,
          file: path.join(runDir, `net-${name}.pcap`),
          filter: target.filter,
          afterStart: 'afterStart' in target ? target.afterStart : undefined,
          bufferSize: cfg.bufferSize,
          snaplen: cfg.snaplen,
          rotate: rig.captures.rotate,
          log: log.child({ capture: name }),
        }),
      );
    }
    const netnsOf = (host: string) => {
      if (!bench) throw new InputError('AIRLOCK_RIG_NOT_VIRTUAL', `virtual radio needs the virtual rig (host ${host})`);
      return bench.lab.netns(host);
    };
    // A radio tool failing after start is reported on the health channel: the run is safed at once.
    captures.push(...createRadioCaptures(rig, { runDir, netnsOf, log: log.child({ part: 'radio' }), onFault: (err) => reportFault(err) }));
    if (power.size > 0) {
      captures.push(new PowerRecorder({ channels: [...power.values()], rateHz: rig.powerSampleHz, dir: runDir, log: log.child({ part: 'power-record' }) }));
    }

    // Canaries: one child per injection point of the rig file (the virtual rig's default is one
    // per device namespace); the same child, started in a namespace, locally or over SSH.
    let canaries: CanarySource | undefined;
    const plan = rig.canaries;
    if (plan && plan.intervalMs > 0 && Object.keys(plan.inject).length > 0) {
      const secret = randomBytes(32).toString('hex');
      const child = nodeScript(import.meta.url, '../devices/capture/canary-child');
      const injectors: CanaryInjector[] = Object.values(plan.inject).map((inj) => {
        if (inj.host) {
          if (!bench) throw new InputError('AIRLOCK_RIG_NOT_VIRTUAL', `canary injection point ${inj.name} names a lab host, but the rig is not virtual`);
          const h = bench.lab.host(inj.host);
          return { name: inj.name, argv: ['ip', 'netns', 'exec', h.netns, ...child], source: h.address, ...(h.address6 ? { source6: h.address6 } : {}), interface: 'eth0' };
        }
        if (inj.ssh) {
          const helper = (inj.helper ?? 'airlock canary-helper').split(/\s+/);
          return { name: inj.name, argv: ['ssh', '-T', '-o', 'BatchMode=yes', inj.ssh, ...helper], source: inj.source!, source6: inj.source6, interface: inj.interface };
        }
        return { name: inj.name, argv: child, source: inj.source!, source6: inj.source6, interface: inj.interface };
      });
      const sender = new CanarySender({
        runId: ctx.runId,
        secret,
        injectors,
        targets: { lab: plan.labTarget ?? rig.lab.sinkhole ?? '', outside: plan.outsideTarget },
        ...(plan.labTarget6 ? { targets6: { lab: plan.labTarget6, outside: plan.outsideTarget6 } } : {}),
        protocols: plan.protocols,
        intervalMs: plan.intervalMs,
        startTimeoutMs: injectors.some((i) => i.argv[0] === 'ssh') ? 30_000 : 15_000,
        ledgerFile: path.join(runDir, CANARY_LEDGER_FILE),
        log: log.child({ part: 'canaries' }),
      });
      canaries = {
        secret,
        spawn: () => sender.spawn(),
        start: () => sender.start(),
        round: () => sender.sendNow().then(() => undefined),
        stop: () => sender.finish(),
        errors: () => sender.errors.slice(),
        counts: () => ({ sent: sender.sentCount, failed: sender.errors.length }),
        onSent: (listener) => sender.onSent(listener),
        capturesFor: (name: string) => plan.inject[name]?.crosses ?? [],
        injectors: () => Object.keys(plan.inject),
      };
    }

    const session: RigSession = {
      power,
      buttons,
      links,
      captures,
      canaries,
      async preflight() {
        const checks: string[] = [];
        for (const [name, ch] of power) {
          const r = await ch.read();
          if (r.on) await ch.off();
          checks.push(`power ${name} answers (output ${r.on ? 'was on, switched off' : 'off'})`);
        }
        // Calibration with everything off: the idle current each channel reads (the zero a
        // current_below limit is read against).
        for (const [name, ch] of power) {
          const r = await ch.read();
          if (r.amps !== null) checks.push(`idle current ${name}: ${(r.amps * 1000).toFixed(1)} mA with the output off`);
        }
        for (const [name, link] of links) {
          await link.open();
          checks.push(`link ${name} open`);
        }
        for (const [name, cfg] of Object.entries(rig.captures.network)) {
          const t = bench ? bench.lab.captureWiring(cfg) : { netns: undefined, iface: cfg.interface };
          if (!(await interfaceExists(t.iface, t.netns))) {
            throw new RigFaultError('AIRLOCK_RIG_NO_INTERFACE', `capture ${name}`, `interface ${t.iface}`, `no such network interface${t.netns ? ` in ${t.netns}` : ''}`);
          }
          checks.push(`interface ${t.iface} for capture ${name} exists`);
        }
        let floorsDbm: Record<string, number> | undefined;
        if (Object.keys(rig.captures.sdr).length > 0) {
          floorsDbm = await measureFloors(rig, { runDir, netnsOf, log: log.child({ part: 'radio' }) });
          checks.push(`radio noise floor measured with everything off: ${Object.entries(floorsDbm).map(([b, v]) => `${b} ${v.toFixed(1)} dBm`).join(', ')}`);
        }
        return { checks, floorsDbm };
      },
      async labService(service, on) {
        if (!bench) throw new InputError('AIRLOCK_RIG_NO_LAB_SERVICE', `lab ${service}: this rig has no controllable lab services`);
        await bench.lab.setService(service, on);
      },
      async deviceAction(device, action) {
        if (bench) return bench.deviceAction(device, action);
        const cmd = rig.devices[device]?.actions?.[action];
        if (cmd) return runShell(cmd, log.child({ device }));
        return prompt(`On ${device}: ${action}. Confirm when done.`, 10 * 60_000);
      },
      async waitForConsole(device, pattern, signal) {
        return waitForLine(path.join(runDir, `console-${device}.log`), pattern, signal);
      },
      prompt,
      async close() {
        await closeAllPorts();
        await bench?.stop();
      },
      extraFiles: () => bench?.extraFiles() ?? [],
    };
    return session;
  } catch (error) {
    // The rig failed to open: the error that caused it is the one to report. Clean-up failures
    // are logged, not thrown, so they cannot hide it.
    await closeAllPorts().catch((e: unknown) => log.warn({ err: e }, 'closing the serial ports after a failed open'));
    await bench?.stop().catch((e: unknown) => log.warn({ err: e }, 'stopping the virtual bench after a failed open'));
    throw error;
  }
}



/** What `switchRigOff` did: the channels it switched off and those that failed. */
export interface SwitchOffReport {
  channelsOff: string[];
  channelsFailed: Array<{ channel: string; error: string }>;
}

/**
 * Recovery (src/orchestrator/recover.ts): switches every power channel of `rig` off through its
 * own driver, without building anything else of the rig. `resolvePort` maps the dead run's
 * `sim:NAME` ports to the PTYs its simulators still hold open. Never throws.
 */
export async function switchRigOff(rig: RigConfig, ctx: { log: pino.Logger; resolvePort(port: string): string }): Promise<SwitchOffReport> {
  const report: SwitchOffReport = { channelsOff: [], channelsFailed: [] };
  for (const [name, cfg] of Object.entries(rig.power)) {
    try {
      const ch = powerDrivers[cfg.driver](cfg, { log: ctx.log.child({ device: name }), resolvePort: ctx.resolvePort, prompt: noTerminal });
      await ch.off();
      report.channelsOff.push(name);
    } catch (error) {
      report.channelsFailed.push({ channel: name, error: (error as Error).message });
    }
  }
  // The off commands are done (or recorded as failed); a port that will not close changes nothing.
  await closeAllPorts().catch(() => undefined);
  return report;
}
