import { LEAK_INTERVAL_MS, leaks } from '../phone-home.js';
import type { FirmwareProfile } from './profile.js';

/** As clean, plus a https leak every few seconds while powered; silent after soft power-off. */
export const leakyHttps = {
  summary: 'as clean, plus a https leak every 3 s',
  powered: (ctx) => void ctx.every(LEAK_INTERVAL_MS, () => leaks.https(ctx), { now: true }),
} satisfies FirmwareProfile;
