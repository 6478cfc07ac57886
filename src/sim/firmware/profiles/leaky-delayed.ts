import { parseDuration } from '../context.js';
import { LEAK_INTERVAL_MS, leaks } from '../phone-home.js';
import type { FirmwareProfile } from './profile.js';

/** Clean until the `delay` parameter (default 20s) has passed since power-on, then phones home every few seconds. */
export const leakyDelayed = {
  summary: 'clean until `delay` (default 20s) has passed, then phones home (DNS, then HTTPS)',
  powered: (ctx) => {
    const delay = parseDuration(ctx.params.delay, 20_000);
    ctx.after(delay, () => ctx.every(LEAK_INTERVAL_MS, () => leaks.phoneHome(ctx), { now: true }));
  },
} satisfies FirmwareProfile;
