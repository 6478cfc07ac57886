/**
 * Builds one driver against its simulator for the shared contract test: serial drivers talk
 * through the real serialport over a socat PTY pair, netswitch over loopback HTTP. Each rig
 * also asks the device for its state in the device's own protocol, not through the driver.
 */
import pino from 'pino';
import { SerialPort } from 'serialport';
import type { PowerDriverName, RigPowerChannel } from '../../src/config/types.js';
import { closeAllPorts, powerDrivers, type DriverContext, type PowerChannel } from '../../src/devices/power/index.js';
import { KoradSim, LcusSim, NetSwitchSim, ResistorLoad, ScpiSim, type SimFault } from '../../src/sim/instruments/index.js';
import { acquirePort } from '../../src/devices/serial/index.js';
import { openPtyPair, type PtyPair } from '../utils/pty.js';

export const silentLog = pino({ level: 'silent' });

export function context(ports: Record<string, string>, prompt?: DriverContext['prompt']): DriverContext {
  return {
    log: silentLog,
    resolvePort: (p) => (p.startsWith('sim:') ? (ports[p.slice(4)] ?? p) : p),
    prompt: prompt ?? (() => Promise.resolve()),
  };
}

export async function openSimPort(path: string, baudRate: number): Promise<SerialPort> {
  const sp = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => sp.open((err) => (err ? reject(err) : resolve())));
  return sp;
}

export function closeSimPort(sp: SerialPort): Promise<void> {
  return new Promise((r) => (sp.isOpen ? sp.close(() => r()) : r()));
}

export interface ContractRig {
  channel: PowerChannel;
  load: ResistorLoad;
  /** Output state as the device itself reports it (its protocol, or its relay for LCUS). */
  deviceOn(): Promise<boolean>;
  /** Programmed volts/amps as the device reports them (supplies only). */
  deviceLimits?(): Promise<{ volts: number; amps: number }>;
  /** Commands the simulator received, in order. */
  received(): string[];
  setFault(f: SimFault): void;
  teardown(): Promise<void>;
}

export interface ContractCase {
  driver: PowerDriverName;
  programmable: boolean;
  /** Expected readings when on with the case's load. */
  onVolts: number | null;
  onAmps: number | null;
  /** What identify() returns, or null where the device has no identification. */
  identity: RegExp | null;
  /** Which bad replies the protocol can carry, and the command the fault must name. */
  faults: Partial<Record<Exclude<SimFault, null>, { op: 'on' | 'read'; command: string; code: string }>>;
  setup(over?: Partial<RigPowerChannel>): Promise<ContractRig>;
}

async function serialRig(
  baudRate: number,
  makeSim: (sp: SerialPort, load: ResistorLoad) => { fault: SimFault; received?: string[] },
  cfg: Omit<RigPowerChannel, 'port'>,
  query: (ptyA: string) => { deviceOn(): Promise<boolean>; deviceLimits?(): Promise<{ volts: number; amps: number }> },
  load: ResistorLoad,
  extra?: (sim: unknown) => Partial<ContractRig>,
): Promise<ContractRig> {
  const pty: PtyPair = await openPtyPair();
  const sp = await openSimPort(pty.b, baudRate);
  const sim = makeSim(sp, load);
  const channel = powerDrivers[cfg.driver]({ ...cfg, port: 'sim:dev' }, context({ dev: pty.a }));
  return {
    channel,
    load,
    ...query(pty.a),
    received: () => sim.received ?? [],
    setFault: (f) => (sim.fault = f),
    ...(extra?.(sim) ?? {}),
    async teardown() {
      await channel.close();
      await closeAllPorts();
      await closeSimPort(sp);
      await pty.close();
    },
  };
}

const base = { channel: 1, volts: 12, currentLimit: 3, timeoutMs: 300 };

export const contractCases: ContractCase[] = [
  {
    driver: 'scpi',
    programmable: true,
    identity: /^Airlock,SIM-SCPI-PSU,0001,1\.0$/,
    onVolts: 12,
    onAmps: 1,
    faults: {
      garbage: { op: 'read', command: 'OUTP?', code: 'AIRLOCK_POWER_BAD_REPLY' },
      silence: { op: 'read', command: 'OUTP?', code: 'AIRLOCK_POWER_NO_REPLY' },
      half: { op: 'on', command: 'VOLT?', code: 'AIRLOCK_POWER_PARTIAL_REPLY' },
    },
    setup: (over) =>
      serialRig(
        115200,
        (sp, load) => new ScpiSim(sp, { channels: { 1: load } }),
        { name: 'drone', driver: 'scpi', baudRate: 115200, ...base, ...over },
        (a) => {
          // Raw SCPI on the same physical port, through the pool (as a second client would).
          const ask = (q: string) =>
            acquirePort({ path: a, baudRate: 115200 }).transaction(async (io) => {
              await io.write(`INST:NSEL 1\n${q}\n`);
              return io.readLine(1000);
            });
          return {
            deviceOn: async () => (await ask('OUTP?')) === '1',
            deviceLimits: async () => ({ volts: Number(await ask('VOLT?')), amps: Number(await ask('CURR?')) }),
          };
        },
        new ResistorLoad(12),
      ),
  },
  {
    driver: 'korad',
    programmable: true,
    identity: /^KORAD KA3005P V5\.8 SN:AIRLOCK-SIM$/,
    onVolts: 12,
    onAmps: 1,
    faults: {
      garbage: { op: 'read', command: 'STATUS?', code: 'AIRLOCK_POWER_BAD_REPLY' },
      silence: { op: 'read', command: 'STATUS?', code: 'AIRLOCK_POWER_NO_REPLY' },
      half: { op: 'on', command: 'VSET1?', code: 'AIRLOCK_POWER_PARTIAL_REPLY' },
    },
    setup: (over) =>
      serialRig(
        9600,
        (sp, load) => new KoradSim(sp, { channels: { 1: load } }),
        { name: 'drone', driver: 'korad', ...base, ...over },
        (a) => {
          const ask = (q: string) =>
            acquirePort({ path: a, baudRate: 9600, minGapMs: 50 }).transaction(async (io) => {
              await io.write(q);
              return io.readFrame(1000, { maxLen: 16, idleMs: 30 });
            });
          return {
            deviceOn: async () => ((await ask('STATUS?'))[0] & 0x40) !== 0,
            deviceLimits: async () => ({
              volts: Number((await ask('VSET1?')).toString()),
              amps: Number((await ask('ISET1?')).toString()),
            }),
          };
        },
        new ResistorLoad(12),
      ),
  },
  {
    driver: 'lcus',
    programmable: false,
    identity: null,
    onVolts: null,
    onAmps: null,
    faults: {
      garbage: { op: 'on', command: 'A0 01 01 A2', code: 'AIRLOCK_POWER_BAD_REPLY' },
      half: { op: 'on', command: 'A0 01 01 A2', code: 'AIRLOCK_POWER_BAD_REPLY' },
      checksum: { op: 'on', command: 'A0 01 01 A2', code: 'AIRLOCK_POWER_BAD_CHECKSUM' },
    },
    async setup(over) {
      let lcus: LcusSim | null = null;
      const rig = await serialRig(
        9600,
        (sp, load) => (lcus = new LcusSim(sp, { channels: { 1: load }, relays: 4 })),
        // timeout 2 s: the board never answers, so faults are caught by listening a tenth of it
        // after each frame; 200 ms keeps the check reliable on a loaded CI host.
        { name: 'drone', driver: 'lcus', channel: 1, timeoutMs: 2000, ...over },
        () => ({
          // The board cannot be queried and never acknowledges: its relay is the device's own
          // state, read once the frame has had time to cross the PTY (even on a loaded machine).
          deviceOn: async () => {
            await new Promise((r) => setTimeout(r, 150));
            return lcus!.relays.get(1) === true;
          },
        }),
        new ResistorLoad(12),
      );
      const l = lcus as unknown as LcusSim;
      rig.received = () => l.events.map((e) => `${e.channel}:${e.closed ? 1 : 0}`);
      return rig;
    },
  },
  {
    driver: 'netswitch',
    programmable: false,
    identity: /^SNSW-001P16EU shellyplus1pm-airlocksim 1\.0\.0$/,
    onVolts: 230,
    onAmps: 1,
    faults: {
      garbage: { op: 'read', command: 'Switch.GetStatus?id=0', code: 'AIRLOCK_POWER_BAD_REPLY' },
      silence: { op: 'read', command: 'Switch.GetStatus?id=0', code: 'AIRLOCK_POWER_NO_REPLY' },
      half: { op: 'on', command: 'Switch.Set?id=0&on=true', code: 'AIRLOCK_POWER_PARTIAL_REPLY' },
    },
    async setup(over) {
      const load = new ResistorLoad(230);
      const sim = new NetSwitchSim({ channels: { 1: load } });
      const port = await sim.listen(0);
      const url = `http://127.0.0.1:${port}`;
      const channel = powerDrivers.netswitch(
        { name: 'drone', driver: 'netswitch', port: 'sim:sw', channel: 1, timeoutMs: 300, ...over },
        context({ sw: url }),
      );
      return {
        channel,
        load,
        async deviceOn() {
          const r = await fetch(`${url}/rpc/Switch.GetStatus?id=0`);
          return ((await r.json()) as { output: boolean }).output;
        },
        received: () => sim.received,
        setFault: (f) => (sim.fault = f),
        async teardown() {
          await channel.close();
          await sim.close();
        },
      };
    },
  },
];
