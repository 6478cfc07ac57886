import { createInterface } from 'node:readline/promises';
import { RigFaultError } from '../../errors.js';
import { eventLine, runScenario, type RunProgress, type RunScenarioOptions } from '../../orchestrator/index.js';

import type { DashboardEvent, DashboardHub, DashboardServer } from '../../dashboard/index.js';
import type { CommandIO } from '../io.js';
import { progressPrinter } from '../progress.js';

/** What `airlock run` passes on: the run's own options, plus --json and --dashboard for the output. */
export type RunCommandOptions = Pick<RunScenarioOptions, 'scenario' | 'rig' | 'out' | 'set' | 'firmware' | 'key' | 'controls' | 'wait' | 'stopOnFinding'> & {
  json?: boolean;
  /** true: serve the dashboard on a port the system chooses; a number: on that port. */
  dashboard?: boolean | number;
  /** Tests: hears the dashboard's URL once it listens. */
  onDashboard?: (url: string) => void;
};

/** Asks the technician on the terminal; no terminal or no answer in time is a rig fault. */
async function terminalPrompt(text: string, timeoutMs: number): Promise<void> {
  if (!process.stdin.isTTY) throw new RigFaultError('AIRLOCK_RIG_NO_TECHNICIAN', 'technician', 'prompt', `no terminal to ask: "${text}"`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = rl.question(`\n>>> ${text}\n    press Enter when done: `, { signal: AbortSignal.timeout(timeoutMs) });
    await answer;
  } catch {
    throw new RigFaultError('AIRLOCK_RIG_NO_TECHNICIAN', 'technician', 'prompt', `no answer within ${Math.round(timeoutMs / 1000)} s to "${text}"`);
  } finally {
    rl.close();
  }
}

export async function runCommand(opts: RunCommandOptions, io: CommandIO): Promise<number> {
  const print = progressPrinter(io, Boolean(opts.json));
  let onProgress = print;
  let dashboard: { server: DashboardServer; hub: DashboardHub } | undefined;
  if (opts.dashboard !== undefined && opts.dashboard !== false) {
    // Imported here: a run without --dashboard loads no HTTP server.
    const { DashboardHub, startDashboardServer } = await import('../../dashboard/index.js');
    const hub = new DashboardHub();
    const server = await startDashboardServer({ hub, port: typeof opts.dashboard === 'number' ? opts.dashboard : 0 });
    dashboard = { server, hub };
    io.err(`dashboard: ${server.url}`);
    opts.onDashboard?.(server.url);
    // The page hears exactly the --json stream (each event with its time).
    onProgress = (e) => {
      print(e);
      hub.publish(JSON.parse(eventLine(e)) as DashboardEvent);
    };
  }
  try {
    return await runWith(opts, io, onProgress);
  } finally {
    if (dashboard) await closeDashboard(dashboard.server, io);
  }
}

/** On a terminal the page stays up after the run (final verdicts, report link) until Enter or Ctrl-C. */
async function closeDashboard(server: DashboardServer, io: CommandIO): Promise<void> {
  if (process.stdin.isTTY && io.tty) {
    io.err(`dashboard: still at ${server.url} with the final verdict; press Enter or Ctrl-C to close it`);
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    await new Promise<void>((resolve) => {
      rl.once('line', () => resolve());
      rl.once('SIGINT', () => resolve());
      rl.once('close', () => resolve());
    });
    rl.close();
  }
  await server.close();
}

async function runWith(opts: RunCommandOptions, io: CommandIO, onProgress: (e: RunProgress) => void): Promise<number> {
  const outcome = await runScenario({
    scenario: opts.scenario,
    rig: opts.rig,
    out: opts.out,
    set: opts.set,
    firmware: opts.firmware,
    key: opts.key,
    controls: opts.controls,
    wait: opts.wait,
    stopOnFinding: opts.stopOnFinding,
    onProgress,
    prompt: terminalPrompt,
  });
  if (!opts.json) io.out(outcome.runDir);
  return outcome.exitCode;
}
