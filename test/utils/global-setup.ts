/**
 * Before any test: make sure the built CLI (dist/) is current, since end-to-end tests run the
 * real binary and its child processes from dist. Quick when nothing changed.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync('./airlock', ['--setup-only'], { stdio: 'inherit' });
}
