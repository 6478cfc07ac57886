/**
 * Errors of src/config. Loading collects every problem of a file and throws one ConfigError
 * carrying all of them, so a technician fixes a file in one pass instead of one typo per run.
 */
import { InputError } from '../errors.js';

/** One problem in one file. `line`/`col` are 1-based; 0 means "the file as a whole" (missing, too large). */
export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  /** Key path inside the file, e.g. `phases[1].steps[0].power.channel`; '' for the file itself. */
  path: string;
  message: string;
}

export const CONFIG_CODES = {
  invalid: 'AIRLOCK_CONFIG_INVALID',
  notFound: 'AIRLOCK_CONFIG_NOT_FOUND',
  unreadable: 'AIRLOCK_CONFIG_UNREADABLE',
  tooLarge: 'AIRLOCK_CONFIG_TOO_LARGE',
  binary: 'AIRLOCK_CONFIG_BINARY',
  empty: 'AIRLOCK_CONFIG_EMPTY',
  syntax: 'AIRLOCK_CONFIG_SYNTAX',
} as const;

export type ConfigErrorCode = (typeof CONFIG_CODES)[keyof typeof CONFIG_CODES];

/** `file:line:col: path: message`, leaving out what is unknown. */
export function formatIssue(i: ConfigIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}:${i.col}` : i.file;
  return i.path ? `${where}: ${i.path}: ${i.message}` : `${where}: ${i.message}`;
}

export class ConfigError extends InputError {
  readonly issues: ConfigIssue[];
  constructor(code: ConfigErrorCode, issues: ConfigIssue[]) {
    super(code, issues.map(formatIssue).join('\n'));
    this.issues = issues;
  }
}

/** A unit string that does not parse (`5`, `10 sec`, `-3s`). Thrown by the parse* functions of units.ts. */
export class UnitError extends InputError {
  constructor(message: string) {
    super('AIRLOCK_UNIT_INVALID', message);
  }
}
