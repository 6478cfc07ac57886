/**
 * The run directory: the unit of evidence (docs/certifier/evidence.md). Runs are append-only:
 * the directory is created exclusively, every file is written once, and the timeline is appended
 * with synchronous writes so a crash loses at most the event being written.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunDirectoryError } from './errors.js';

/** `YYYYMMDDTHHMMSSZ` in UTC. */
export function runTimestamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** A scenario name made safe as a path component. */
function safeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '').slice(0, 80);
  return s || 'run';
}

function checkName(name: string): void {
  if (!name || name.includes('/') || name.includes('\\') || name.includes('\0') || name === '.' || name.includes('..')) {
    throw new RunDirectoryError('AIRLOCK_EVIDENCE_BAD_NAME', `not a plain file name inside a run directory: ${JSON.stringify(name)}`);
  }
}

/**
 * Appends one JSON line per event to timeline.jsonl; each line gets `mono_ms` and `time`.
 * A line that cannot be written (a full disk) is kept in memory, in order, and written by
 * `retry()` or `close()` once space is freed; `onWriteError` hears of the first failure.
 */
export class TimelineWriter {
  private fd: number | undefined;
  private pending: Buffer[] = [];
  private failed = false;
  private headOff = 0;
  onWriteError?: (error: unknown) => void;

  constructor(
    readonly path: string,
    private readonly startNs: bigint,
  ) {
    this.fd = fs.openSync(path, 'a', 0o644);
  }

  append(entry: { event: string; [field: string]: unknown }): void {
    if (this.fd === undefined) throw new RunDirectoryError('AIRLOCK_EVIDENCE_EXISTS', `timeline ${this.path} is closed`);
    const mono_ms = Number(process.hrtime.bigint() - this.startNs) / 1e6;
    const line = JSON.stringify({ ...entry, mono_ms: Math.round(mono_ms * 1000) / 1000, time: new Date().toISOString() }) + '\n';
    this.pending.push(Buffer.from(line, 'utf8'));
    this.retry();
  }

  /** Writes the lines held back; true when none is left. */
  retry(): boolean {
    if (this.fd === undefined) return this.pending.length === 0;
    while (this.pending.length > 0) {
      const buf = this.pending[0]!;
      try {
        // headOff: how much of the first held line is already in the file (a short write).
        while (this.headOff < buf.length) this.headOff += fs.writeSync(this.fd, buf, this.headOff, buf.length - this.headOff);
        this.headOff = 0;
      } catch (error) {
        if (!this.failed) {
          this.failed = true;
          this.onWriteError?.(error);
        }
        return false;
      }
      this.pending.shift();
    }
    return true;
  }

  /** fsync and close; further appends throw. */
  close(): void {
    if (this.fd === undefined) return;
    this.retry();
    try {
      fs.fsyncSync(this.fd);
    } catch {
      /* a full disk: what could be written is written */
    } finally {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

export class RunDirectory {
  private readonly startNs = process.hrtime.bigint();
  private timelineWriter: TimelineWriter | undefined;

  private constructor(
    readonly path: string,
    readonly runId: string,
  ) {}

  /**
   * Creates `<outDir>/<YYYYMMDDTHHMMSSZ>-<scenario>/` exclusively; when that name is taken (two runs
   * in the same second) tries `-2`, `-3`... It never writes into an existing directory.
   */
  static create(outDir: string, scenarioName: string, now: Date = new Date()): RunDirectory {
    const base = `${runTimestamp(now)}-${safeName(scenarioName)}`;
    fs.mkdirSync(outDir, { recursive: true });
    for (let n = 1; n < 1000; n++) {
      const dir = path.resolve(outDir, n === 1 ? base : `${base}-${n}`);
      try {
        fs.mkdirSync(dir, { mode: 0o755 }); // not recursive: fails with EEXIST if it exists
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw e;
      }
      return new RunDirectory(dir, randomBytes(3).toString('hex'));
    }
    throw new RunDirectoryError('AIRLOCK_EVIDENCE_EXISTS', `too many run directories named ${base} in ${outDir}`);
  }

  /** An existing run directory, for reading (reports, manifest, verify). */
  static open(dir: string): RunDirectory {
    const abs = path.resolve(dir);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch (e) {
      throw new RunDirectoryError('AIRLOCK_EVIDENCE_NOT_RUN_DIR', `no such run directory: ${dir}`, { cause: e });
    }
    if (!st.isDirectory()) throw new RunDirectoryError('AIRLOCK_EVIDENCE_NOT_RUN_DIR', `not a directory: ${dir}`);
    return new RunDirectory(abs, readRunId(abs));
  }

  /** Absolute path of a file inside the directory; refuses names that are not plain file names. */
  file(name: string): string {
    checkName(name);
    return path.join(this.path, name);
  }

  /** True when the file exists in the directory. */
  has(name: string): boolean {
    return fs.existsSync(this.file(name));
  }

  /** Exact byte copy of `src` into the directory (scenario.yaml, rig.yaml); write-once. */
  copyIn(src: string, name: string): void {
    fs.copyFileSync(src, this.file(name), fs.constants.COPYFILE_EXCL);
  }

  /** The timeline writer (one per RunDirectory; opened on first use). */
  timeline(): TimelineWriter {
    this.timelineWriter ??= new TimelineWriter(this.file('timeline.jsonl'), this.startNs);
    return this.timelineWriter;
  }

  /** Write-once JSON file (two-space indented, trailing newline). */
  writeJson(name: string, value: unknown): void {
    this.writeText(name, JSON.stringify(value, null, 2) + '\n');
  }

  /** Write-once text file; refuses to overwrite an existing file. */
  writeText(name: string, text: string): void {
    writeOnce(this.file(name), text);
  }
}

/** Writes a new file (flag `wx`) and fsyncs it; throws AIRLOCK_EVIDENCE_EXISTS if it exists. */
export function writeOnce(file: string, data: string | Uint8Array, mode = 0o644): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new RunDirectoryError('AIRLOCK_EVIDENCE_EXISTS', `refusing to overwrite ${file}: run directories are append-only`, { cause: e });
    }
    throw e;
  }
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The run id of an existing directory: result.json's `runId`, else the first timeline event that carries one. */
function readRunId(dir: string): string {
  try {
    const r = JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8')) as { runId?: unknown };
    if (typeof r.runId === 'string') return r.runId;
  } catch {
    /* no result.json yet (a run cut short) or a torn one: the timeline below still names the run */
  }
  try {
    const text = fs.readFileSync(path.join(dir, 'timeline.jsonl'), 'utf8');
    for (const line of text.split('\n')) {
      if (!line.includes('runId')) continue;
      try {
        const e = JSON.parse(line) as { runId?: unknown };
        if (typeof e.runId === 'string') return e.runId;
      } catch {
        /* a torn line (the last one of a killed run): the lines before it still carry the run id */
      }
    }
  } catch {
    /* no timeline either: the run id is not known, said by the empty string */
  }
  return '';
}
