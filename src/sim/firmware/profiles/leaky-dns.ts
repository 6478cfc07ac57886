import { LEAK_INTERVAL_MS, leaks } from '../phone-home.js';
import type { FirmwareProfile } from './profile.js';

/** As clean, plus a dns leak every few seconds while powered; silent after soft power-off. */
export const leakyDns = {
  summary: 'as clean, plus a dns leak every 3 s',
  powered: (ctx) => void ctx.every(LEAK_INTERVAL_MS, () => leaks.dns(ctx), { now: true }),
} satisfies FirmwareProfile;
