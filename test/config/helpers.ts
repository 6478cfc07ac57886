import { expect } from 'vitest';
import { ConfigError, formatIssue } from '../../src/config/index.js';

/** Runs fn, expects a ConfigError, returns its code and formatted issue lines. */
export function configErrorOf(fn: () => unknown): { code: string; lines: string[] } {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a ConfigError').toBeInstanceOf(ConfigError);
  const e = caught as ConfigError;
  expect(e.category).toBe('input');
  expect(e.message).toBe(e.issues.map(formatIssue).join('\n'));
  return { code: e.code, lines: e.issues.map(formatIssue) };
}
