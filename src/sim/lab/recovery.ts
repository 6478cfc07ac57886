/** What recovery (src/orchestrator/recover.ts) needs of the lab: the namespaces a dead run made, and their removal. */
import path from 'node:path';
import { listNetns } from './exec.js';
import { destroyRun, netnsName } from './virtual-lab.js';
import { readLines } from './state.js';

export { destroyRun };

/** Namespaces of run `id`: those its state lists and any still named after it. */
export async function listNetnsOf(id: string, stateDir: string): Promise<string[]> {
  const listed = readLines(path.join(stateDir, 'netns'));
  const prefix = netnsName(id, '');
  const found = (await listNetns()).filter((n) => n.startsWith(prefix));
  return [...new Set([...listed, ...found])];
}
