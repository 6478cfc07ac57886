/**
 * The one contract every power driver meets, run against each driver talking to its
 * simulator through the real serialport on a PTY pair (or loopback HTTP).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RigFaultError } from '../../src/errors.js';
import type { ProgrammablePowerChannel } from '../../src/devices/power/index.js';
import { contractCases, type ContractRig } from './harness.js';

describe.each(contractCases)('power contract: $driver', (c) => {
  let rig: ContractRig | null = null;
  afterEach(async () => {
    await rig?.teardown();
    rig = null;
  });

  it('switches on and off, as the device itself reports, and reads the load', async () => {
    rig = await c.setup();
    expect(await rig.deviceOn()).toBe(false);
    await rig.channel.on();
    expect(await rig.deviceOn()).toBe(true);
    expect(rig.load.powered).toBe(true);
    const on = await rig.channel.read();
    expect(on.on).toBe(true);
    if (c.onVolts === null) expect(on.volts).toBeNull();
    else expect(on.volts).toBeCloseTo(c.onVolts, 1);
    if (c.onAmps === null) expect(on.amps).toBeNull();
    else expect(on.amps).toBeCloseTo(c.onAmps, 2);

    await rig.channel.off();
    expect(await rig.deviceOn()).toBe(false);
    expect(rig.load.powered).toBe(false);
    const off = await rig.channel.read();
    expect(off.on).toBe(false);
    if (c.onAmps !== null) expect(off.amps).toBe(0);
  });

  it('identifies itself where the protocol can', async () => {
    rig = await c.setup();
    if (c.identity === null) expect(rig.channel.identify).toBeUndefined();
    else expect(await rig.channel.identify!()).toMatch(c.identity);
  });

  it.each(Object.entries(c.faults))('a bad reply (%s) is a rig fault naming the device and the command', async (fault, expected) => {
    rig = await c.setup();
    rig.setFault(fault as 'garbage');
    const op = expected.op === 'on' ? rig.channel.on() : rig.channel.read();
    const err = await op.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RigFaultError);
    const f = err as RigFaultError;
    expect(f.category).toBe('rig');
    expect(f.code).toBe(expected.code);
    expect(f.device).toBe('drone');
    expect(f.command).toBe(expected.command);
    expect(f.message).toContain('drone');
    expect(f.message).toContain(expected.command);
    // The channel recovers once the device answers properly again (stale bytes are dropped).
    rig.setFault(null);
    await new Promise((r) => setTimeout(r, 100));
    await rig.channel.off();
    expect(await rig.deviceOn()).toBe(false);
  });

  if (c.programmable) {
    it('programs and reads back the limits before enabling the output', async () => {
      rig = await c.setup();
      await rig.channel.on();
      const cmds = rig.received().slice();
      expect(await rig.deviceLimits!()).toEqual({ volts: 12, amps: 3 });
      const firstEnable = cmds.findIndex((x) => /^(OUTP ON|OUT1)$/.test(x));
      const lastReadBack = Math.max(cmds.lastIndexOf('CURR?'), cmds.lastIndexOf('ISET1?'));
      const firstSet = cmds.findIndex((x) => /^(VOLT 12|VSET1:12)/.test(x));
      expect(firstSet).toBeGreaterThanOrEqual(0);
      expect(lastReadBack).toBeGreaterThan(firstSet);
      expect(firstEnable).toBeGreaterThan(lastReadBack);
    });

    it('limits the current (constant-current mode) when the load wants more', async () => {
      rig = await c.setup();
      await (rig.channel as ProgrammablePowerChannel).setLimits(5, 0.25);
      await rig.channel.on(); // on() reprograms the rig file's 12 V / 3 A first
      await (rig.channel as ProgrammablePowerChannel).setLimits(12, 0.5);
      const r = await rig.channel.read();
      expect(r.amps).toBeCloseTo(0.5, 2);
      expect(r.volts).toBeCloseTo(6, 1); // 0.5 A through 12 ohms
    });

    it('refuses to enable an output whose limits read back differently', async () => {
      rig = await c.setup({ volts: 40 });
      const err = await rig.channel.on().then(
        () => null,
        (e: unknown) => e as RigFaultError,
      );
      expect(err?.code).toBe('AIRLOCK_POWER_READBACK_MISMATCH');
      expect(err?.command).toMatch(/^(VOLT\?|VSET1\?)$/);
      expect(await rig.deviceOn()).toBe(false);
      expect(rig.load.powered).toBe(false);
    });
  }
});
