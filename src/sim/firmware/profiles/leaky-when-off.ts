import { startAir } from '../lab-traffic.js';
import { LEAK_INTERVAL_MS, leaks } from '../phone-home.js';
import type { FirmwareProfile } from './profile.js';

/** As clean while powered; after a soft power-off keeps its radio link busy and phones home (DNS, then HTTPS). */
export const leakyWhenOff = {
  summary: 'as clean; after soft power-off keeps the radio link busy and phones home (DNS, then HTTPS)',
  afterSoftOff: (ctx) => {
    startAir(ctx);
    ctx.every(LEAK_INTERVAL_MS, () => leaks.phoneHome(ctx), { now: true });
  },
} satisfies FirmwareProfile;
