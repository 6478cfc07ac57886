/**
 * `airlock dashboard <run-dir> [--port N]`: serves the dashboard page for a run that is going on
 * (or is over), following the events.jsonl the run appends. Serves until Ctrl-C (or `signal`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DashboardError, DashboardHub, EVENTS_FILE, followEvents, startDashboardServer } from '../../dashboard/index.js';
import type { CommandIO } from '../io.js';

export interface DashboardCommandOptions {
  runDir: string;
  port?: number;
  /** Tests: stop serving when this aborts (otherwise SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Tests: hears the URL once the server listens. */
  onListening?: (url: string) => void;
}

export async function dashboardCommand(opts: DashboardCommandOptions, io: CommandIO): Promise<number> {
  const dir = path.resolve(opts.runDir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new DashboardError('AIRLOCK_DASHBOARD_NO_EVENTS', `not a run directory: ${opts.runDir}`);
  const hub = new DashboardHub();
  const follower = followEvents(path.join(dir, EVENTS_FILE), hub);
  await follower.caughtUp;
  // The evidence links open files of this directory, whatever the stream says its path was.
  const server = await startDashboardServer({ hub, port: opts.port, runDir: () => dir });
  io.err(`dashboard: ${server.url} (run ${hub.state.snapshot().run?.runId ?? '?'}, ${hub.state.finished ? 'finished' : 'following it as it runs'}; Ctrl-C to stop)`);
  if (follower.skipped) io.err(`dashboard: ${follower.skipped} line(s) of ${EVENTS_FILE} were not events and were skipped`);
  if (follower.stoppedEarly) io.err(`dashboard: ${follower.stoppedEarly}`);
  opts.onListening?.(server.url);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    if (opts.signal) {
      if (opts.signal.aborted) return resolve();
      opts.signal.addEventListener('abort', stop, { once: true });
    } else {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
  });
  follower.stop();
  await server.close();
  return 0;
}
