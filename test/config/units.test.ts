import { describe, expect, it } from 'vitest';
import {
  parseCurrent,
  parseDbm,
  parseDuration,
  parseFrequency,
  parseRadioThreshold,
  parseSize,
  parseVoltage,
  UnitError,
} from '../../src/config/index.js';

const bad = (fn: () => unknown, message: string) => {
  expect(fn).toThrow(UnitError);
  expect(fn).toThrow(message);
};

describe('durations → ms', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['0s', 0],
  ])('%s', (s, ms) => expect(parseDuration(s)).toBe(ms));

  it('refuses bare numbers, negative values, unknown and wrongly cased units', () => {
    bad(() => parseDuration('30'), '"30" has no unit: write a duration with its unit, such as 500ms, 30s, 10m or 2h');
    bad(() => parseDuration(30 as unknown as string), '30 has no unit');
    bad(() => parseDuration('-5s'), '"-5s": a duration cannot be negative');
    bad(() => parseDuration('5 s'), '"5 s" is not a duration');
    bad(() => parseDuration('5S'), '"5S" is not a duration');
    bad(() => parseDuration('5sec'), '"5sec" is not a duration');
    bad(() => parseDuration(''), '"" is not a duration');
    bad(() => parseDuration('s'), '"s" is not a duration');
    expect(new UnitError('x').code).toBe('AIRLOCK_UNIT_INVALID');
  });
});

describe('currents → A, voltages → V, frequencies → Hz, power → dBm, sizes → bytes', () => {
  it('converts', () => {
    expect(parseCurrent('5mA')).toBeCloseTo(0.005, 12);
    expect(parseCurrent('3A')).toBe(3);
    expect(parseCurrent('250uA')).toBeCloseTo(0.00025, 12);
    expect(parseCurrent('250µA')).toBeCloseTo(0.00025, 12);
    expect(parseVoltage('12V')).toBe(12);
    expect(parseVoltage('3.3V')).toBe(3.3);
    expect(parseVoltage('500mV')).toBe(0.5);
    expect(parseFrequency('2.4GHz')).toBe(2.4e9);
    expect(parseFrequency('433MHz')).toBe(433e6);
    expect(parseFrequency('100kHz')).toBe(100e3);
    expect(parseFrequency('10Hz')).toBe(10);
    expect(parseDbm('-70dBm')).toBe(-70);
    expect(parseDbm('3dBm')).toBe(3);
    expect(parseSize('32MiB')).toBe(33_554_432);
    expect(parseSize('1MB')).toBe(1_000_000);
    expect(parseSize('64KiB')).toBe(65_536);
  });

  it('refuses missing, wrong and negative units', () => {
    bad(() => parseCurrent('50'), '"50" has no unit: write a current with its unit, such as 250uA, 50mA or 3A');
    bad(() => parseCurrent('5ma'), '"5ma" is not a current');
    bad(() => parseCurrent('-1A'), '"-1A": a current cannot be negative');
    bad(() => parseVoltage('12v'), '"12v" is not a voltage');
    bad(() => parseFrequency('2.4Ghz'), '"2.4Ghz" is not a frequency');
    bad(() => parseFrequency('2.4'), '"2.4" has no unit');
    bad(() => parseDbm('-70'), '"-70" has no unit');
    bad(() => parseDbm('-70dB'), '"-70dB" is not a power level');
    bad(() => parseSize('1.5B'), '"1.5B" is not a whole number of bytes');
    bad(() => parseSize('32M'), '"32M" is not a size');
  });
});

describe('radio thresholds', () => {
  it('absolute and relative to the noise floor', () => {
    expect(parseRadioThreshold('-70dBm')).toEqual({ dbm: -70 });
    expect(parseRadioThreshold('floor+10dB')).toEqual({ aboveFloorDb: 10 });
    expect(parseRadioThreshold('floor + 6.5dB')).toEqual({ aboveFloorDb: 6.5 });
    bad(() => parseRadioThreshold('floor-10dB'), '"floor-10dB" is not a threshold');
    bad(() => parseRadioThreshold('-70'), '"-70" is not a threshold');
  });
});
