/**
 * One physical port, several channels: a dual-output SCPI supply whose two channels are read
 * concurrently, and the Korad dialect's pacing (commands framed by silence on the wire).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SerialPort } from 'serialport';
import { closeAllPorts, powerDrivers, type PowerChannel } from '../../src/devices/power/index.js';
import { KoradSim, ResistorLoad, ScpiSim } from '../../src/sim/instruments/index.js';
import { splitCommands } from '../../src/sim/instruments/korad.sim.js';
import { acquirePort } from '../../src/devices/serial/index.js';
import { RigFaultError } from '../../src/errors.js';
import { openPtyPair, type PtyPair } from '../utils/pty.js';
import { attemptsOnQuietLoop } from '../utils/loop-lag.js';
import { closeSimPort, context, openSimPort } from './harness.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
  await closeAllPorts();
});

async function pair(baud: number): Promise<{ pty: PtyPair; sp: SerialPort }> {
  const pty = await openPtyPair();
  const sp = await openSimPort(pty.b, baud);
  cleanup.push(() => pty.close(), () => closeSimPort(sp));
  return { pty, sp };
}

describe('dual-output SCPI supply on one port', () => {
  it('keeps each channel on its own output under concurrent use', async () => {
    const { pty, sp } = await pair(115200);
    const drone = new ResistorLoad(12);
    const rc = new ResistorLoad(24);
    const sim = new ScpiSim(sp, { channels: { 1: drone, 2: rc } });
    const ctx = context({ psu: pty.a });
    const ch1: PowerChannel = powerDrivers.scpi({ name: 'drone', driver: 'scpi', port: 'sim:psu', channel: 1, volts: 12, currentLimit: 2, timeoutMs: 300 }, ctx);
    const ch2: PowerChannel = powerDrivers.scpi({ name: 'controller', driver: 'scpi', port: 'sim:psu', channel: 2, volts: 6, currentLimit: 1, timeoutMs: 300 }, ctx);
    cleanup.push(() => ch1.close(), () => ch2.close());
    await Promise.all([ch1.on(), ch2.on()]);
    const reads = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? ch2 : ch1).read()));
    reads.forEach((r, i) => {
      expect(r.on).toBe(true);
      expect(r.volts).toBeCloseTo(i % 2 ? 6 : 12, 2);
      expect(r.amps).toBeCloseTo(i % 2 ? 0.25 : 1, 3);
    });
    expect(sim.outputs.get(1)!.volts).toBe(12);
    expect(sim.outputs.get(2)!.volts).toBe(6);
    await ch1.off();
    expect(drone.powered).toBe(false);
    expect(rc.powered).toBe(true);
    // Every exchange selects its channel first: no query runs on a channel selected by another.
    const sel = sim.received.filter((l) => l.startsWith('INST:NSEL'));
    expect(sel.length).toBeGreaterThanOrEqual(14);
  });

  it('opens the port again for a channel used after closeAllPorts', async () => {
    const { pty, sp } = await pair(115200);
    new ScpiSim(sp, { channels: { 1: new ResistorLoad(6) } });
    const ch = powerDrivers.scpi({ name: 'drone', driver: 'scpi', port: pty.a, channel: 1, volts: 12, currentLimit: 3, timeoutMs: 300 }, context({}));
    cleanup.push(() => ch.close());
    await ch.on();
    await closeAllPorts();
    expect(await ch.read()).toEqual({ on: true, volts: 12, amps: 2 });
    await ch.off();
  });

  it('refuses one port at two baud rates', () => {
    acquirePort({ path: '/dev/null-airlock-a', baudRate: 9600 });
    expect(() => acquirePort({ path: '/dev/null-airlock-a', baudRate: 115200 })).toThrow(/one port has one rate/);
  });

  it('is a port fault naming the channel when the port does not exist', async () => {
    const ch = powerDrivers.scpi(
      { name: 'drone', driver: 'scpi', port: '/dev/airlock-no-such-port', channel: 1, volts: 12, currentLimit: 1, timeoutMs: 200 },
      context({}),
    );
    const err = (await ch.read().catch((e: unknown) => e)) as RigFaultError;
    expect(err).toBeInstanceOf(RigFaultError);
    expect(err.code).toBe('AIRLOCK_POWER_PORT');
    expect(err.device).toBe('drone');
    await ch.close();
  });
});

describe('Korad pacing', () => {
  it('spaces commands so the supply frames each one by the silence after it', async () => {
    // The simulator frames by a 15 ms silence as it reads the PTY, in this process: a stall of
    // the shared event loop longer than the 50 ms pacing less that silence reads two paced
    // commands as one, which says nothing of the driver. Such an attempt is made again, on a
    // fresh port and supply (test/utils/loop-lag.ts); an unpaced driver fails every attempt.
    const { value: attempt } = await attemptsOnQuietLoop(
      async () => {
        const { pty, sp } = await pair(9600);
        const sim = new KoradSim(sp, { channels: { 1: new ResistorLoad(10) } });
        const ch = powerDrivers.korad({ name: 'drone', driver: 'korad', port: 'sim:k', channel: 1, volts: 5, currentLimit: 1.5, timeoutMs: 300 }, context({ k: pty.a }));
        cleanup.push(() => ch.close());
        const fault = (e: unknown) => (e instanceof Error ? e.message : String(e));
        const on = await ch.on().then(() => null, fault);
        const received = [...sim.received];
        const read = on === null ? await ch.read().catch(fault) : null;
        await ch.close();
        await closeAllPorts();
        return { on, received, read };
      },
      { maxLagMs: 50 - 15 - 5 },
    );
    expect(attempt.on).toBeNull();
    expect(attempt.received).toEqual(['VSET1:5.00', 'ISET1:1.500', 'VSET1?', 'ISET1?', 'OUT1', 'STATUS?']);
    expect(attempt.read).toEqual({ on: true, volts: 5, amps: 0.5 });
  });

  it('unpaced commands run together and the supply ignores them (why pacing matters)', async () => {
    // The simulator takes a chunk read after a stall of its own process command by command (its
    // spacing on the wire unknown: src/sim/instruments/korad.sim.ts), so the check needs a quiet
    // loop: a stalled attempt is made again on a fresh port and supply.
    const { value: received } = await attemptsOnQuietLoop(
      async () => {
        const { pty, sp } = await pair(9600);
        const sim = new KoradSim(sp, { channels: {} });
        const port = acquirePort({ path: pty.a, baudRate: 9600 });
        // Two commands with no silence between them, as an unpaced driver would put them on the wire.
        await port.transaction((io) => io.write('VSET1:07.00ISET1:0.500'));
        await port.release();
        // Framed once the supply has heard 15 ms of silence (later on a loaded host); then one more
        // frame time, so a split would have shown as a second command.
        await vi.waitFor(() => expect(sim.received.length).toBeGreaterThan(0), { timeout: 2000 });
        await new Promise((r) => setTimeout(r, 60));
        const out = { received: [...sim.received], volts: sim.outputs.get(1)?.volts ?? 0 };
        await closeAllPorts();
        return out;
      },
      { maxLagMs: 30 - 10 - 5 },
    );
    expect(received.received).toEqual(['VSET1:07.00ISET1:0.500']);
    expect(received.volts).toBe(0);
  });
});

describe('manual power channel', () => {
  it('switches when the technician confirms, and reports what was confirmed', async () => {
    const asked: string[] = [];
    const ch = powerDrivers.manual(
      { name: 'charger', driver: 'manual', channel: 1, volts: 5, timeoutMs: 500 },
      context({}, async (t) => {
        asked.push(t);
      }),
    );
    await ch.on();
    expect(await ch.read()).toEqual({ on: true, volts: null, amps: null });
    await ch.off();
    expect(await ch.read()).toEqual({ on: false, volts: null, amps: null });
    expect(asked[0]).toMatch(/"charger" ON at 5 V/);
    expect(asked[1]).toMatch(/"charger" OFF/);
  });

  it('is a rig fault naming the channel when nobody answers within the timeout', async () => {
    const ch = powerDrivers.manual({ name: 'charger', driver: 'manual', channel: 1, timeoutMs: 120 }, context({}, () => new Promise(() => undefined)));
    const err = (await ch.on().catch((e: unknown) => e)) as RigFaultError;
    expect(err.code).toBe('AIRLOCK_POWER_MANUAL_TIMEOUT');
    expect(err.device).toBe('charger');
    expect(err.command).toBe('on');
    expect((await ch.read()).on).toBe(false);
  });
});

describe('Korad simulator framing', () => {
  it('splits a chunk into commands only when its read came after a stall (their spacing unknown)', () => {
    // The grammar split the simulator applies after a stall of its own process.
    expect(splitCommands('VSET1:07.40ISET1:2.000')).toEqual(['VSET1:07.40', 'ISET1:2.000']);
    expect(splitCommands('OUT1STATUS?')).toEqual(['OUT1', 'STATUS?']);
    expect(splitCommands('VSET1?ISET1?VOUT1?IOUT1?*IDN?')).toEqual(['VSET1?', 'ISET1?', 'VOUT1?', 'IOUT1?', '*IDN?']);
    // One command, or anything that is not exactly a run of valid commands, stays one frame.
    expect(splitCommands('STATUS?')).toBeUndefined();
    expect(splitCommands('VSET1:07.40XISET1:2.000')).toBeUndefined();
    expect(splitCommands('OUT1STATUS')).toBeUndefined();
  });

  it('a stalled simulator takes paced commands read as one chunk one by one', async () => {
    const chunks: Array<(b: Buffer) => void> = [];
    const stream = { on: (_: 'data', cb: (b: Buffer) => void) => chunks.push(cb), write: () => undefined };
    const sim = new KoradSim(stream, { channels: { 1: new ResistorLoad(10) } });
    // Stalled: this process does not run for 80 ms (a busy loop), then reads the chunk.
    const until = Date.now() + 80;
    while (Date.now() < until) {
      /* the stall */
    }
    chunks[0]!(Buffer.from('VSET1:07.00ISET1:0.500'));
    await vi.waitFor(() => expect(sim.received).toEqual(['VSET1:07.00', 'ISET1:0.500']), { timeout: 2000 });
    expect(sim.outputs.get(1)!.volts).toBe(7);
    expect(sim.outputs.get(1)!.amps).toBe(0.5);
    // As after a real stall: the loop runs its timers first (the late tick), then reads the chunk.
    const until2 = Date.now() + 80;
    while (Date.now() < until2) {
      /* the stall */
    }
    setTimeout(() => chunks[0]!(Buffer.from('OUT1STATUS?')), 0);
    await vi.waitFor(() => expect(sim.received.slice(2)).toEqual(['OUT1', 'STATUS?']), { timeout: 2000 });
  });
});
