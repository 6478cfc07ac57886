/**
 * Child entry of a supply or relay simulator on the virtual rig:
 *   sim-main --model scpi|korad|lcus|netswitch --port <pty path | http port> --channels <json>
 * channels: {"1": {"kind": "resistor", "ohms": 12}, "2": {"kind": "load", "module": "/abs/x.js",
 * "export": "makeLoad", "args": {...}}, "3": {"kind": "contact"}}. A `load` module's export is
 * called with `args` and returns a SimLoad or SimButtonContact; `contact` prints its closures as
 * JSON lines on stdout. `"role": "power" | "button"` says which side of an object that is both
 * (a firmware host) this channel is wired to; without it such an object is a load. Prints {"ready":true,...} once serving; exits on SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { SerialPort } from 'serialport';
import { KoradSim } from './korad.sim.js';
import { LcusSim } from './lcus.sim.js';
import { NetSwitchSim } from './netswitch.sim.js';
import { ScpiSim } from './scpi.sim.js';
import { ResistorLoad, isContact, isLoad, type SimFault, type SimWiring } from './sim-support.js';

type Wiring =
  | { kind: 'resistor'; ohms: number }
  | { kind: 'contact' }
  | { kind: 'load'; module: string; export: string; args?: unknown; role?: 'power' | 'button' };

/** Expose only the side of `w` the channel is wired to, so a relay never cuts a button's device. */
function side(w: SimWiring, role: 'power' | 'button' | undefined): SimWiring {
  if (role === 'button' && isContact(w)) return { setClosed: (c: boolean) => w.setClosed(c) };
  if (role === 'power' && isLoad(w)) return { setPowered: (on: boolean) => w.setPowered(on), amps: (v: number) => w.amps(v) };
  if (role) throw new Error(`a ${role} channel needs ${role === 'button' ? 'setClosed' : 'setPowered and amps'}`);
  return w;
}

async function wire(spec: Record<string, Wiring>): Promise<Record<number, SimWiring>> {
  const out: Record<number, SimWiring> = {};
  for (const [ch, w] of Object.entries(spec)) {
    if (w.kind === 'resistor') out[Number(ch)] = new ResistorLoad(w.ohms);
    else if (w.kind === 'contact') {
      out[Number(ch)] = { setClosed: (closed) => process.stdout.write(JSON.stringify({ contact: Number(ch), closed, t: Date.now() }) + '\n') };
    } else {
      const mod = (await import(pathToFileURL(w.module).href)) as Record<string, (a: unknown) => SimWiring | Promise<SimWiring>>;
      if (typeof mod[w.export] !== 'function') throw new Error(`${w.module} has no export ${w.export}`);
      out[Number(ch)] = side(await mod[w.export](w.args ?? {}), w.role);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      port: { type: 'string' },
      channels: { type: 'string', default: '{}' },
      baud: { type: 'string' },
      fault: { type: 'string' },
    },
  });
  const model = values.model;
  const channels = await wire(JSON.parse(values.channels as string) as Record<string, Wiring>);
  const fault = (values.fault ?? null) as SimFault;
  let close: () => Promise<void>;
  let faulty: { fault: SimFault } | undefined;
  let port: string | number;
  if (model === 'netswitch') {
    const httpPort = Number(values.port ?? 0);
    if (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65535) throw new Error(`netswitch --port must be a TCP port number (0 = any), not ${values.port}`);
    const sim = new NetSwitchSim({ channels, fault });
    faulty = sim;
    port = await sim.listen(httpPort);
    close = () => sim.close();
  } else if (model === 'scpi' || model === 'korad' || model === 'lcus') {
    const baudRate = Number(values.baud ?? (model === 'scpi' ? 115200 : 9600));
    const sp = new SerialPort({ path: values.port as string, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => sp.open((err) => (err ? reject(err) : resolve())));
    faulty = model === 'scpi' ? new ScpiSim(sp, { channels, fault }) : model === 'korad' ? new KoradSim(sp, { channels, fault }) : new LcusSim(sp, { channels, fault });
    port = values.port as string;
    close = () => new Promise((r) => sp.close(() => r()));
  } else {
    throw new Error(`unknown --model ${String(model)} (scpi, korad, lcus, netswitch)`);
  }
  // A device going bad mid-run, for the fault tests (docs/technician/faults.md): SIGUSR1 makes
  // it answer garbage from now on, SIGUSR2 makes it fall silent (a supply whose USB link hung).
  process.on('SIGUSR1', () => {
    if (faulty) faulty.fault = 'garbage';
  });
  process.on('SIGUSR2', () => {
    if (faulty) faulty.fault = 'silence';
  });
  const stop = () => void close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(JSON.stringify({ ready: true, model, port }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`power simulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
