import { LEAK_INTERVAL_MS, leaks } from '../phone-home.js';
import type { FirmwareProfile } from './profile.js';

/** As clean, plus a ipv6 leak every few seconds while powered; silent after soft power-off. */
export const leakyIpv6 = {
  summary: 'as clean, plus a ipv6 leak every 3 s',
  powered: (ctx) => void ctx.every(LEAK_INTERVAL_MS, () => leaks.ipv6(ctx), { now: true }),
} satisfies FirmwareProfile;
