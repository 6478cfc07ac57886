/**
 * Follows a run directory's events.jsonl (the `--json` stream the run appends as it goes) so
 * `airlock dashboard <run-dir>` can attach to a running or finished run. The directory is treated
 * as hostile: the file must be a regular file (no symlink, no FIFO), lines longer than a limit are
 * skipped, and reading stops after a total byte limit.
 */
import * as fs from 'node:fs';
import { DashboardError } from './errors.js';
import type { DashboardHub } from './hub.js';
import type { DashboardEvent } from './state.js';

export const EVENTS_FILE = 'events.jsonl';

export interface FollowOptions {
  /** How often to look for new lines while the run goes on (ms). */
  pollMs?: number;
  /** Longest line kept (bytes); longer ones are skipped and counted. */
  maxLineBytes?: number;
  /** Reading stops after this many bytes (an 8-hour soak writes a few tens of MB). */
  maxBytes?: number;
}

export interface Follower {
  /** Resolves once everything already in the file has been read. */
  readonly caughtUp: Promise<void>;
  /** Lines that were not JSON events or were too long. */
  readonly skipped: number;
  /** Why reading stopped early (the byte limit), if it did. */
  readonly stoppedEarly: string | undefined;
  stop(): void;
}

export function followEvents(file: string, hub: DashboardHub, opts: FollowOptions = {}): Follower {
  const pollMs = opts.pollMs ?? 250;
  const maxLine = opts.maxLineBytes ?? 256 * 1024;
  const maxBytes = opts.maxBytes ?? 1024 * 1024 * 1024;
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink planted in the run directory is refused; O_NONBLOCK: a FIFO cannot hang the open.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DashboardError(
      'AIRLOCK_DASHBOARD_NO_EVENTS',
      code === 'ENOENT' ? `${file} not found: not a run directory, or a run from before the dashboard existed` : `${file}: cannot be read (${code ?? (e as Error).message})`,
      { cause: e },
    );
  }
  if (!fs.fstatSync(fd).isFile()) {
    fs.closeSync(fd);
    throw new DashboardError('AIRLOCK_DASHBOARD_NO_EVENTS', `${file} is not a regular file`);
  }
  const buf = Buffer.alloc(1024 * 1024);
  let offset = 0;
  let partial: Buffer[] = [];
  let partialLen = 0;
  let overlong = false;
  let skipped = 0;
  let stoppedEarly: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let resolveCaughtUp!: () => void;
  const caughtUp = new Promise<void>((r) => (resolveCaughtUp = r));

  const line = (bytes: Buffer) => {
    if (bytes.length === 0) return;
    try {
      const e = JSON.parse(bytes.toString('utf8')) as DashboardEvent;
      if (e && typeof e === 'object' && !Array.isArray(e) && typeof e.type === 'string') hub.publish(e);
      else skipped++;
    } catch {
      skipped++; // a damaged line (a crash mid-write) is skipped, not fatal
    }
  };

  /** Reads what was appended since the last call; false when the stream is over. */
  const readMore = (): boolean => {
    for (;;) {
      if (offset >= maxBytes) {
        stoppedEarly = `stopped reading after ${maxBytes} bytes of ${file}`;
        return false;
      }
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, maxBytes - offset), offset);
      if (n === 0) return true;
      offset += n;
      let start = 0;
      for (let i = 0; i < n; i++) {
        if (buf[i] !== 0x0a) continue;
        if (!overlong) {
          const piece = buf.subarray(start, i);
          line(partialLen ? Buffer.concat([...partial, piece]) : piece);
        } else skipped++;
        partial = [];
        partialLen = 0;
        overlong = false;
        start = i + 1;
        if (hub.state.finished) return false;
      }
      if (start < n && !overlong) {
        partialLen += n - start;
        if (partialLen > maxLine) {
          overlong = true;
          partial = [];
          partialLen = 0;
        } else partial.push(Buffer.from(buf.subarray(start, n)));
      }
    }
  };

  const finish = () => {
    stopped = true;
    clearTimeout(timer);
    try {
      fs.closeSync(fd);
    } catch {
      /* the follow has stopped: a close that fails (EBADF, already closed) leaves nothing a retry would release */
    }
  };

  const tick = () => {
    if (stopped) return;
    let more: boolean;
    try {
      more = readMore();
    } catch {
      more = false; // the file went away (the run directory was removed): the page keeps what it has
    }
    resolveCaughtUp();
    if (!more) return finish();
    timer = setTimeout(tick, pollMs);
    timer.unref();
  };
  tick();

  return {
    caughtUp,
    get skipped() {
      return skipped;
    },
    get stoppedEarly() {
      return stoppedEarly;
    },
    stop: finish,
  };
}
