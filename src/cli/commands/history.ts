/** `airlock history <dir> [--out FILE]`: verdicts per scenario per firmware build (Markdown), and an HTML trend page. */
import * as fs from 'node:fs';
import type { CommandIO } from '../io.js';
import { buildHistory, historyHtml, historyMarkdown } from '../../regression/index.js';

export interface HistoryCommandOptions {
  dir: string;
  /** HTML trend page (default history.html). */
  out?: string;
}

export async function historyCommand(opts: HistoryCommandOptions, io: CommandIO): Promise<number> {
  const h = buildHistory(opts.dir);
  const out = opts.out ?? 'history.html';
  fs.writeFileSync(out, historyHtml(h));
  io.out(historyMarkdown(h));
  io.err(`airlock history: trend page written to ${out}`);
  return 0;
}
