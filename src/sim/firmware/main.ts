/**
 * Entry of a built-in firmware: `main.ts --profile NAME` (started by FirmwareHost inside the
 * device's namespace). SIGTERM is the soft power-off: everything stops, and a profile with
 * `afterSoftOff` leaves a child (`--after-off`) running in the same process group.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { nodeScript } from '../../child-script.js';
import { createContext } from './context.js';
import { startLabTraffic } from './lab-traffic.js';
import { PROFILES, isProfileName } from './profiles/index.js';

const { values } = parseArgs({ options: { profile: { type: 'string' }, 'after-off': { type: 'boolean', default: false } } });
const name = values.profile ?? '';
if (!isProfileName(name)) {
  process.stderr.write(`unknown firmware profile "${name}" (${Object.keys(PROFILES).join(', ')})\n`);
  process.exit(2);
}
const profile = PROFILES[name] as import('./profiles/index.js').FirmwareProfile;
const ctx = createContext();
// A firmware keeps running through a failed send; what it did is in its console log.
process.on('uncaughtException', (e) => ctx.log(`error: ${e.message}`));
process.on('unhandledRejection', (e) => ctx.log(`error: ${String(e)}`));

if (values['after-off']) {
  ctx.log(`${name}: running after soft power-off`);
  profile.afterSoftOff?.(ctx);
  process.on('SIGTERM', () => process.exit(0));
} else {
  ctx.log(`${name}: boot (${profile.summary})`);
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    ctx.log('soft power-off');
    void ctx
      .stopAll()
      .then(() => (profile.atSoftOff ? Promise.race([profile.atSoftOff(ctx), new Promise((r) => setTimeout(r, 5000))]) : undefined))
      .catch((e: unknown) => ctx.log(`error at soft power-off: ${String(e)}`))
      .finally(() => {
        if (profile.afterSoftOff) {
          const [node, ...args] = nodeScript(import.meta.url, './main');
          // Not detached: the child stays in the firmware's process group, so a power cut kills it.
          spawn(node!, [...args, '--profile', name, '--after-off'], { stdio: 'inherit' }).unref();
        }
        ctx.log('main process exits');
        process.exit(0);
      });
  });
  await startLabTraffic(ctx);
  profile.powered?.(ctx);
}
