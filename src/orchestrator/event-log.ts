/**
 * events.jsonl: the run's `--json` event stream, appended to the run directory as it goes, so a
 * second process (`airlock dashboard <run-dir>`) can follow a running run or replay a finished one.
 * It is closed before the manifest is written, so it is hashed with the rest of the evidence.
 * A line that cannot be written (a full disk) ends the log; the run goes on (the timeline is the
 * record the verdicts rest on).
 */
import * as fs from 'node:fs';

/** One event as `--json` prints it and events.jsonl holds it: the event and the time it was sent. */
export function eventLine(e: object, now = new Date()): string {
  return JSON.stringify({ ...e, time: now.toISOString() });
}

export class EventLog {
  private fd: number | undefined;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a', 0o644);
  }

  append(e: object): void {
    if (this.fd === undefined) return;
    try {
      fs.writeSync(this.fd, eventLine(e) + '\n');
    } catch {
      this.close(); // a full disk: what was written stays; the run's own records go on
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      fs.fsyncSync(fd);
    } catch {
      /* a full disk: what could be written is written */
    } finally {
      fs.closeSync(fd);
    }
  }
}
