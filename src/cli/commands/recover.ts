import pino from 'pino';
import pc from 'picocolors';
import { recoverDeadRuns, recoverRunDirectory, type Recovery } from '../../orchestrator/index.js';
import type { CommandIO } from '../io.js';
import { EXIT } from '../exit-codes.js';

export interface RecoverCommandOptions {
  runDir?: string;
}

/**
 * `airlock recover [run-dir]`: what the next run does by itself after a SIGKILL, by hand.
 * Without a directory every dead run on this host is recovered. Exit 0 when every channel
 * was switched off (or there was nothing to recover), 4 when one was not confirmed off.
 */
export async function recoverCommand(opts: RecoverCommandOptions, io: CommandIO): Promise<number> {
  const log = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: true }));
  const recoveries: Recovery[] = opts.runDir ? [await recoverRunDirectory(opts.runDir, log)] : await recoverDeadRuns(log);
  if (recoveries.length === 0) {
    io.err('airlock recover: no dead run on this host');
    return EXIT.pass;
  }
  let failed = false;
  for (const r of recoveries) {
    io.err(`run ${r.runId || '(unknown id)'}${r.runDir ? ` (${r.runDir})` : ''}:`);
    io.err(`  switched off: ${r.channelsOff.length ? r.channelsOff.join(', ') : 'none'}`);
    for (const f of r.channelsFailed) io.err(pc.red(`  NOT confirmed off: ${f.channel}: ${f.error}`));
    io.err(`  process groups ended: ${r.groupsKilled}`);
    if (r.note) io.err(`  note: ${r.note}`);
    io.err(`  run directory: ${r.finalised ? 'finalised (result.json INCONCLUSIVE, interrupted; manifest written)' : 'already complete, left as it was'}`);
    if (r.runDir) io.out(r.runDir);
    failed ||= r.channelsFailed.length > 0;
  }
  return failed ? EXIT.rigFault : EXIT.pass;
}
