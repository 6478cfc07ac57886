/**
 * Strict unit parsing. A unit is always written: a bare number where a unit is required is an
 * error, because `timeout: 30` could mean 30 ms or 30 s and a wrong guess silently changes a test.
 * Each parser returns the value in the base unit of src/config/types.ts (ms, A, V, Hz, dBm, bytes).
 *
 * Hand-written on purpose. The duration libraries were measured on the inputs a lab writes
 * (docs/developer/conventions.md 17): `ms` 2.1.3, `@lukeed/ms` 2.0.2 and `parse-duration` 2.1.9 all
 * read a bare `30` as 30 ms and `-5s` as a negative duration, and take units a scenario does not
 * have (`1d`, `30sec`, `30 S`); `ms` and `@lukeed/ms` refuse the compound `1h30m` the schema
 * allows, and `parse-duration` reads `5s junk` as 5 s, silently dropping what it does not know.
 * Wrapping one of them in a grammar strict enough to refuse all that leaves the library only the
 * multiplication below, so the grammar is the parser; the other units have no library at all.
 * Parameters (`--set`) and firmware parameters reach these parsers without passing the schema,
 * so the strictness has to live here, not only in a schema pattern.
 */
import { UnitError } from './errors.js';
import type { RadioThreshold } from './types.js';

const NUM = '(\\d+(?:\\.\\d+)?|\\.\\d+)';

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

interface UnitSpec {
  what: string;
  examples: string;
  units: Record<string, number>;
  /** May the value be negative (dBm)? */
  signed?: boolean;
}

function unitParser(spec: UnitSpec): (s: string) => number {
  // Longest suffix first so `ms` is not read as `m` + junk.
  const suffixes = Object.keys(spec.units).sort((a, b) => b.length - a.length);
  const re = new RegExp(`^([-+]?)${NUM}(${suffixes.map((u) => u.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
  return (s: string): number => {
    if (typeof s === 'number') {
      throw new UnitError(`${show(s)} has no unit: write ${spec.what} with its unit, such as ${spec.examples}`);
    }
    if (typeof s !== 'string') throw new UnitError(`expected ${spec.what} such as ${spec.examples}, got ${show(s)}`);
    const t = s.trim();
    if (/^[-+]?(\d+(\.\d+)?|\.\d+)$/.test(t)) {
      throw new UnitError(`${show(s)} has no unit: write ${spec.what} with its unit, such as ${spec.examples}`);
    }
    const m = re.exec(t);
    if (!m) throw new UnitError(`${show(s)} is not ${spec.what}: write it such as ${spec.examples}`);
    const value = Number(m[2]) * spec.units[m[3]!]!;
    if (m[1] === '-' && !spec.signed && value !== 0) throw new UnitError(`${show(s)}: ${spec.what} cannot be negative`);
    return m[1] === '-' ? -value : value;
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `10m`, `2h`, also compound `1h30m` → milliseconds (≥ 0). */
export function parseDuration(s: string): number {
  const what = 'a duration';
  const examples = '500ms, 30s, 10m or 2h';
  if (typeof s === 'number') throw new UnitError(`${show(s)} has no unit: write ${what} with its unit, such as ${examples}`);
  if (typeof s !== 'string') throw new UnitError(`expected ${what} such as ${examples}, got ${show(s)}`);
  const t = s.trim();
  if (/^[-+]?(\d+(\.\d+)?|\.\d+)$/.test(t)) {
    throw new UnitError(`${show(s)} has no unit: write ${what} with its unit, such as ${examples}`);
  }
  if (/^-/.test(t)) throw new UnitError(`${show(s)}: a duration cannot be negative`);
  const part = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)/y;
  let total = 0;
  let i = t.startsWith('+') ? 1 : 0;
  if (i >= t.length) throw new UnitError(`${show(s)} is not ${what}: write it such as ${examples}`);
  while (i < t.length) {
    part.lastIndex = i;
    const m = part.exec(t);
    if (!m) throw new UnitError(`${show(s)} is not ${what}: write it such as ${examples}`);
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    i = part.lastIndex;
  }
  return total;
}

/** `5mA`, `3A`, `250uA` (or `250µA`) → amperes. */
export const parseCurrent: (s: string) => number = unitParser({
  what: 'a current',
  examples: '250uA, 50mA or 3A',
  units: { A: 1, mA: 1e-3, uA: 1e-6, 'µA': 1e-6 },
});

/** `12V`, `3.3V`, `500mV` → volts. */
export const parseVoltage: (s: string) => number = unitParser({
  what: 'a voltage',
  examples: '500mV, 3.3V or 12V',
  units: { V: 1, mV: 1e-3 },
});

/** `2.4GHz`, `433MHz`, `100kHz`, `10Hz` → hertz. */
export const parseFrequency: (s: string) => number = unitParser({
  what: 'a frequency',
  examples: '10Hz, 100kHz, 433MHz or 2.4GHz',
  units: { Hz: 1, kHz: 1e3, MHz: 1e6, GHz: 1e9 },
});

/** `-70dBm` → dBm (signed). */
export const parseDbm: (s: string) => number = unitParser({
  what: 'a power level',
  examples: '-70dBm',
  units: { dBm: 1 },
  signed: true,
});

/** `32MiB`, `1MB`, `64KiB`, `512B` → bytes (an integer). */
export function parseSize(s: string): number {
  const n = sizeParser(s);
  if (!Number.isInteger(n)) throw new UnitError(`${show(s)} is not a whole number of bytes`);
  return n;
}
const sizeParser = unitParser({
  what: 'a size',
  examples: '512B, 64KiB, 1MB or 32MiB',
  units: { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 },
});

/** `-70dBm` (absolute) or `floor+10dB` (relative to the band's measured noise floor). */
export function parseRadioThreshold(s: string): RadioThreshold {
  if (typeof s === 'string') {
    const m = new RegExp(`^floor\\s*\\+\\s*${NUM}dB$`).exec(s.trim());
    if (m) return { aboveFloorDb: Number(m[1]) };
    if (/^floor/.test(s.trim())) {
      throw new UnitError(`${show(s)} is not a threshold: write floor+10dB (above the noise floor) or -70dBm`);
    }
  }
  try {
    return { dbm: parseDbm(s) };
  } catch {
    throw new UnitError(`${show(s)} is not a threshold: write -70dBm (absolute) or floor+10dB (above the noise floor)`);
  }
}
