/** Press patterns as alternating closed/open durations (ms), starting closed. */
import type { PressPattern } from '../../config/types.js';

export const SHORT_PRESS_MS = 200;
export const LONG_PRESS_MS = 2000;
/** Gap between the two presses of `double` and of DJI's short-then-long. */
export const DOUBLE_GAP_MS = 200;
export const SHORT_LONG_GAP_MS = 300;

export function pressTimings(pattern: PressPattern): number[] {
  if (typeof pattern === 'object') return pattern.custom.slice();
  switch (pattern) {
    case 'short':
      return [SHORT_PRESS_MS];
    case 'long':
      return [LONG_PRESS_MS];
    case 'double':
      return [SHORT_PRESS_MS, DOUBLE_GAP_MS, SHORT_PRESS_MS];
    case 'short-long':
      return [SHORT_PRESS_MS, SHORT_LONG_GAP_MS, LONG_PRESS_MS];
  }
}

export function describePattern(pattern: PressPattern): string {
  if (typeof pattern === 'object') {
    return pattern.custom.map((ms, i) => `${i % 2 === 0 ? 'hold' : 'release'} ${ms} ms`).join(', ');
  }
  return {
    short: `a short press (${SHORT_PRESS_MS / 1000} s)`,
    long: `a long press (${LONG_PRESS_MS / 1000} s)`,
    double: 'two short presses',
    'short-long': `a short press, then at once a long press (${LONG_PRESS_MS / 1000} s)`,
  }[pattern];
}
