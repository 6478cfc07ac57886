import { spawn } from 'node:child_process';
import type { FirmwareProfile } from './profile.js';

/** As clean; after a soft power-off the network and radio go silent, but a process stays alive (standby current). */
export const zombieOff = {
  summary: 'as clean; after soft power-off silent, but a process stays alive and draws standby current',
  afterSoftOff: (ctx) => {
    ctx.log('soft-off: staying resident');
    // A plain sleeping child in the same process group, as a firmware daemon would linger.
    spawn('sleep', ['86400'], { stdio: 'ignore' }).unref();
  },
} satisfies FirmwareProfile;
