/**
 * The console's canary health (src/cli/progress.ts): canaries missing from a capture they must
 * cross are said on their own line (once, then as more go missing, at most once a minute), with
 * the captures that missed them; canaries all seen say nothing.
 */
import { describe, expect, it } from 'vitest';
import { progressPrinter } from '../../src/cli/progress.js';

const counters = (seen: number, missing: number, byCapture: Record<string, { seen: number; missing: number }>) =>
  ({ type: 'counters', elapsedMs: 1000, captures: {}, amps: {}, canaries: { sent: seen + missing + 10, failed: 0, seen, missing, byCapture } }) as const;

describe('console canary health', () => {
  it('names the captures that miss canaries, and is quiet while every canary is seen', () => {
    const lines: string[] = [];
    const print = progressPrinter({ out: () => {}, err: (t) => void lines.push(t), tty: false }, false);
    print(counters(40, 0, { drone: { seen: 40, missing: 0 } }));
    expect(lines).toEqual([]);
    print(counters(40, 3, { drone: { seen: 43, missing: 0 }, uplink: { seen: 40, missing: 3 } }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/canaries missing: 3 of 43 not seen in every capture they cross \(uplink 3\)/);
    // More missing within the minute: not said again yet.
    print(counters(41, 5, { drone: { seen: 46, missing: 0 }, uplink: { seen: 41, missing: 5 } }));
    expect(lines).toHaveLength(1);
  });

  it('names an injection point that stopped sending, once', () => {
    const lines: string[] = [];
    const print = progressPrinter({ out: () => {}, err: (t) => void lines.push(t), tty: false }, false);
    const silent = { ...counters(40, 0, { drone: { seen: 40, missing: 0 } }), canaries: { sent: 50, failed: 0, seen: 40, missing: 0, byCapture: {}, silent: ['phone'] } };
    print(silent);
    print(silent);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/injection point phone went without sending for longer than the post-run check allows/);
  });
});
