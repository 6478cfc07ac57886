/**
 * The console's canary health (src/cli/progress.ts): canaries missing from a capture they must
 * cross are said on their own line (once, then as more go missing, at most once a minute), with
 * the captures that missed them; canaries all seen say nothing. A capture none of whose canaries
 * were ever checked is said (not left looking like the others' all seen), as are canaries given up
 * undecided.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NONE_CHECKED_MS, progressPrinter } from '../../src/cli/progress.js';

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

  describe('a capture never checked', () => {
    afterEach(() => void vi.useRealTimers());
    const start = Date.parse('2026-12-03T12:00:00Z');

    it('is said once it has had no canary decided for NONE_CHECKED_MS, kept on the status line, and said again once checked', () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(start);
      const lines: string[] = [];
      const status: string[] = [];
      const isTTY = process.stderr.isTTY;
      const write = process.stderr.write;
      // The status line is drawn only on a terminal: stand one in for stderr.
      process.stderr.isTTY = true;
      process.stderr.write = ((t: string) => status.push(t) > 0) as unknown as typeof process.stderr.write;
      try {
        const print = progressPrinter({ out: () => {}, err: (t) => void lines.push(t), tty: true }, false);
        print(counters(40, 0, { drone: { seen: 40, missing: 0 }, uplink: { seen: 0, missing: 0 } }));
        vi.setSystemTime(start + NONE_CHECKED_MS - 1000);
        print(counters(50, 0, { drone: { seen: 50, missing: 0 }, uplink: { seen: 0, missing: 0 } }));
        // Not yet: a capture's first canaries take seconds to be decided.
        expect(lines).toEqual([]);
        expect(status.at(-1)).toMatch(/canaries 50 seen$/);
        vi.setSystemTime(start + NONE_CHECKED_MS);
        print(counters(55, 0, { drone: { seen: 55, missing: 0 }, uplink: { seen: 0, missing: 0 } }));
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/canaries: none checked in uplink for 15 s .*its canaries are unproven/);
        expect(lines[0]).not.toMatch(/drone/);
        expect(status.at(-1)).toMatch(/canaries 55 seen NONE CHECKED in uplink/);
        vi.setSystemTime(start + 2 * NONE_CHECKED_MS);
        print(counters(60, 0, { drone: { seen: 60, missing: 0 }, uplink: { seen: 0, missing: 0 } }));
        expect(lines).toHaveLength(1);
        print(counters(62, 0, { drone: { seen: 62, missing: 0 }, uplink: { seen: 2, missing: 0 } }));
        expect(lines).toHaveLength(2);
        expect(lines[1]).toMatch(/canaries: uplink now checked \(2 seen\)/);
        expect(status.at(-1)).not.toMatch(/NONE CHECKED/);
      } finally {
        process.stderr.isTTY = isTTY;
        process.stderr.write = write;
      }
    });

    it('is said when it is the only capture (nothing decided anywhere)', () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(start);
      const lines: string[] = [];
      const print = progressPrinter({ out: () => {}, err: (t) => void lines.push(t), tty: false }, false);
      print(counters(0, 0, { drone: { seen: 0, missing: 0 } }));
      vi.setSystemTime(start + NONE_CHECKED_MS + 5000);
      print(counters(0, 0, { drone: { seen: 0, missing: 0 } }));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/none checked in drone for 20 s/);
    });

    it('says nothing when the live analysis is not known (no counts)', () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(start);
      const lines: string[] = [];
      const print = progressPrinter({ out: () => {}, err: (t) => void lines.push(t), tty: false }, false);
      const unknown = { type: 'counters', elapsedMs: 1000, captures: {}, amps: {}, canaries: { sent: 10, failed: 0 } } as const;
      print(unknown);
      vi.setSystemTime(start + 10 * NONE_CHECKED_MS);
      print(unknown);
      expect(lines).toEqual([]);
    });
  });

  it('says canaries given up undecided, then more at most once a minute', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.parse('2026-12-03T12:00:00Z'));
      const lines: string[] = [];
      const print = progressPrinter({ out: () => {}, err: (t) => void lines.push(t), tty: false }, false);
      const given = (unchecked: number) => ({ ...counters(40, 0, { drone: { seen: 40, missing: 0 } }), canaries: { sent: 20_100, failed: 0, seen: 40, missing: 0, byCapture: { drone: { seen: 40, missing: 0 } }, unchecked } });
      print(given(7));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/canaries not checked: 7 given up undecided/);
      vi.setSystemTime(Date.parse('2026-12-03T12:00:30Z'));
      print(given(9));
      expect(lines).toHaveLength(1);
      vi.setSystemTime(Date.parse('2026-12-03T12:01:01Z'));
      print(given(12));
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/canaries not checked: 12 given up undecided/);
    } finally {
      vi.useRealTimers();
    }
  });
});
