/** A board unplugged mid-run (the PTY pair goes away) is a port fault naming the channel. */
import { expect, it, vi } from 'vitest';
import { closeAllPorts, powerDrivers } from '../../src/devices/power/index.js';
import { LcusSim, ResistorLoad } from '../../src/sim/instruments/index.js';
import { RigFaultError } from '../../src/errors.js';
import { openPtyPair } from '../utils/pty.js';
import { closeSimPort, context, openSimPort } from './harness.js';

it('an LCUS board that disappears is a port fault on the next command', async () => {
  const pty = await openPtyPair();
  const sp = await openSimPort(pty.b, 9600);
  const sim = new LcusSim(sp, { channels: { 1: new ResistorLoad(5) } });
  const ch = powerDrivers.lcus({ name: 'phone', driver: 'lcus', port: pty.a, channel: 1, timeoutMs: 300 }, context({}));
  try {
    await ch.on();
    // The board never answers, so the write can return before the board (here, the simulator on the
    // same busy event loop) has read the frame: wait for the relay to close, as a meter would show.
    await vi.waitFor(() => expect(sim.relays.get(1)).toBe(true), { timeout: 2000 });
    await closeSimPort(sp);
    await pty.close();
    await new Promise((r) => setTimeout(r, 100));
    const err = (await ch.off().catch((e: unknown) => e)) as RigFaultError;
    expect(err).toBeInstanceOf(RigFaultError);
    expect(err.code).toBe('AIRLOCK_POWER_PORT');
    expect(err.device).toBe('phone');
    expect(err.command).toBe('A0 01 00 A1');
  } finally {
    await ch.close();
    await closeAllPorts();
    await pty.close();
  }
});
