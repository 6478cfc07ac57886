/**
 * Time coverage: the windows a run is judged in. They partition the run, from the start of the
 * captures (in preflight, after every power channel was switched off) to the end of safing, so
 * no captured instant is judged by no window:
 *
 *   preflight | phase 1 | gap | phase 2 | gap | ... | phase n | safing
 *
 * Phase i is judged over [start_i + settle, end_i + settle): what happens within `settle` after
 * a boundary belongs to the phase that caused it (a button pressed at the end of `power-off`
 * uploads in `power-off`). The first phase starts at its start. A gap is what lies between one
 * phase's window and the next (normally a few milliseconds). Safing runs from the last phase's
 * window to the end of the captures. A phase that never started has no window (it is NOT_RUN);
 * the time it would have had belongs to safing.
 *
 * The first and the last window are open-ended for packets (fromMs/toMs stay the honest bounds
 * for reports): a packet captured before the recorded start or after the recorded end of the
 * captures is still judged, by preflight or safing.
 */

export type CoverageKind = 'preflight' | 'phase' | 'gap' | 'safing';

export interface CoverageWindow {
  kind: CoverageKind;
  /** `preflight`, the phase's name, `between <a> and <b>`, `safing`. */
  name: string;
  /** Index of the phase (kind `phase`). */
  phase?: number;
  fromMs: number;
  toMs: number;
}

export interface RunTimes {
  /** When the captures were started (epoch ms); absent in runs recorded before it was kept. */
  capturesStartMs?: number;
  /** Phase windows as they ran (epoch ms); startMs absent when a phase never started. */
  windows: Array<{ startMs?: number; endMs?: number }>;
  capturesEndMs: number;
  settleMs: number;
  phaseNames: string[];
}

/** The run's windows in time order; together they cover [first start, capturesEndMs). */
export function coverageWindows(t: RunTimes): CoverageWindow[] {
  const end = t.capturesEndMs;
  const clamp = (ms: number) => Math.min(ms, end);
  const out: CoverageWindow[] = [];
  const started = t.windows.flatMap((w, i) => (w.startMs !== undefined ? [{ i, startMs: w.startMs, endMs: w.endMs }] : []));
  const firstStart = started[0]?.startMs ?? end;
  const runStart = Math.min(t.capturesStartMs ?? firstStart, firstStart);
  out.push({ kind: 'preflight', name: 'preflight', fromMs: runStart, toMs: clamp(Math.max(runStart, firstStart)) });
  let cursor = out[0]!.toMs;
  let prevName = '';
  for (const s of started) {
    const name = t.phaseNames[s.i] ?? `phase ${s.i + 1}`;
    const from = clamp(Math.max(cursor, s.i === started[0]!.i ? s.startMs : s.startMs + t.settleMs));
    if (prevName && from > cursor) out.push({ kind: 'gap', name: `between ${prevName} and ${name}`, fromMs: cursor, toMs: from });
    const to = clamp(Math.max(from, (s.endMs ?? end) + t.settleMs));
    out.push({ kind: 'phase', name, phase: s.i, fromMs: from, toMs: to });
    cursor = to;
    prevName = name;
  }
  out.push({ kind: 'safing', name: 'safing', fromMs: cursor, toMs: Math.max(cursor, end) });
  return out;
}

/**
 * The window a packet at `ms` belongs to, searching from `hint` (packets come nearly in time
 * order, so the answer is almost always the hint or the next one). Windows are contiguous.
 */
export function windowIndexAt(windows: CoverageWindow[], ms: number, hint: number): number {
  const last = windows.length - 1;
  let i = hint < 0 || hint > last ? 0 : hint;
  while (i > 0 && ms < windows[i]!.fromMs) i--;
  while (i < last && ms >= windows[i]!.toMs) i++;
  return i;
}
