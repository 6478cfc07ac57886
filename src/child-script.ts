/**
 * How to start one of Airlock's own modules as a child process (capture children,
 * simulators, firmware profiles). From the built tree (dist/*.js) it is plain `node`;
 * from the sources (tests under vitest run src/*.ts) it is node with tsx's loader.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);

/**
 * argv (program first) that runs the module `relative` (no extension) resolved against
 * the caller's `import.meta.url`, e.g. nodeScript(import.meta.url, './capture-child').
 */
export function nodeScript(callerUrl: string, relative: string): string[] {
  const callerFile = fileURLToPath(callerUrl);
  const fromSource = callerFile.endsWith('.ts');
  const target = path.resolve(path.dirname(callerFile), relative + (fromSource ? '.ts' : '.js'));
  if (!fromSource) return [process.execPath, target];
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  return [process.execPath, '--import', tsx, target];
}
