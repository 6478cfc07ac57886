/**
 * Conversion helpers shared by the rig and scenario loaders. They read plain data defensively
 * (the schema already reported wrong types, so a mismatch here yields undefined silently) and
 * report only what the schema cannot: units, ranges, references, duplicates.
 */
import { ipaddr } from '../ipaddr.js';
import type { ConfigIssue } from './errors.js';
import { formatPath, type ConfigSource, type Seg } from './source.js';
import type { SourcePos } from './types.js';
import { UnitError } from './errors.js';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class Reader {
  readonly issues: ConfigIssue[] = [];
  constructor(readonly src: ConfigSource) {}

  pos(path: readonly Seg[]): SourcePos {
    return this.src.index.at(path);
  }

  fail(path: readonly Seg[], message: string, opts: { atKey?: boolean } = {}): void {
    const p = opts.atKey ? this.src.index.keyAt(path) : this.src.index.at(path);
    this.issues.push({ file: p.file, line: p.line, col: p.col, path: formatPath(path), message });
  }

  obj(v: unknown): Obj {
    return isObj(v) ? v : {};
  }

  str(v: unknown): string | undefined {
    return typeof v === 'string' ? v : undefined;
  }

  int(v: unknown, dflt: number): number {
    return typeof v === 'number' && Number.isInteger(v) ? v : dflt;
  }

  strings(v: unknown): string[] {
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  }

  /**
   * A unit value: parsed with `parse`; `undefined`/absent gives `dflt`. `min` 'positive' refuses 0.
   * Returns `dflt` (or NaN when there is none) after reporting a problem, so conversion can go on.
   */
  unit(
    obj: Obj | readonly unknown[],
    key: string | number,
    path: readonly Seg[],
    parse: (s: string) => number,
    opts: { dflt?: number; min?: 'positive' | 'nonneg'; what?: string } = {},
  ): number {
    const v = (obj as Record<string | number, unknown>)[key];
    const here = [...path, key];
    if (v === undefined) {
      return opts.dflt ?? NaN;
    }
    try {
      const n = parse(v as string);
      if (opts.min === 'positive' && !(n > 0)) {
        this.fail(here, `${JSON.stringify(v)}: ${opts.what ?? 'the value'} must be greater than zero`);
        return opts.dflt ?? NaN;
      }
      return n;
    } catch (e) {
      if (e instanceof UnitError) {
        this.fail(here, e.message);
        return opts.dflt ?? NaN;
      }
      throw e;
    }
  }
}

/** `10.231.0.0/24`, `fd0a:231::/64` → [address, prefix, family] or undefined. */
export function parseCidr(s: string): { address: string; prefix: number; family: 4 | 6 } | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s.trim());
  if (!m || !(ipaddr.IPv4.isValidFourPartDecimal(m[1]!) || ipaddr.IPv6.isValid(m[1]!))) return undefined;
  try {
    const [addr, prefix] = ipaddr.parseCIDR(s.trim());
    return { address: m[1]!, prefix, family: addr.kind() === 'ipv4' ? 4 : 6 };
  } catch {
    // ipaddr.js rejects a prefix beyond the family's length: not a CIDR, as the caller asks.
    return undefined;
  }
}
