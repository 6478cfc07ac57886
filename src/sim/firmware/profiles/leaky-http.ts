import { LEAK_INTERVAL_MS, leaks } from '../phone-home.js';
import type { FirmwareProfile } from './profile.js';

/** As clean, plus a http leak every few seconds while powered; silent after soft power-off. */
export const leakyHttp = {
  summary: 'as clean, plus a http leak every 3 s',
  powered: (ctx) => void ctx.every(LEAK_INTERVAL_MS, () => leaks.http(ctx), { now: true }),
} satisfies FirmwareProfile;
