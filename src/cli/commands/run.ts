import { createInterface } from 'node:readline/promises';
import { RigFaultError } from '../../errors.js';
import { runScenario, type RunScenarioOptions } from '../../orchestrator/index.js';
import type { CommandIO } from '../io.js';
import { progressPrinter } from '../progress.js';

/** What `airlock run` passes on: the run's own options, plus --json for the output. */
export type RunCommandOptions = Pick<RunScenarioOptions, 'scenario' | 'rig' | 'out' | 'set' | 'firmware' | 'key' | 'controls' | 'wait'> & { json?: boolean };

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
  const outcome = await runScenario({
    scenario: opts.scenario,
    rig: opts.rig,
    out: opts.out,
    set: opts.set,
    firmware: opts.firmware,
    key: opts.key,
    controls: opts.controls,
    wait: opts.wait,
    onProgress: progressPrinter(io, Boolean(opts.json)),
    prompt: terminalPrompt,
  });
  if (!opts.json) io.out(outcome.runDir);
  return outcome.exitCode;
}
