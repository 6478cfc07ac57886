import { uploadFlightRecord } from '../phone-home.js';
import type { FirmwareProfile } from './profile.js';

/**
 * As clean while powered; at its soft power-off itself (the button's long press) it uploads a
 * flight record, a DNS lookup of the vendor's name then an HTTPS POST to its outside address,
 * and then stops. Nothing runs afterwards: only a judge of the power-off phase itself sees it.
 */
export const syncAtOff = {
  summary: 'as clean; at soft power-off uploads a flight record (DNS, then an HTTPS POST), then stops',
  atSoftOff: (ctx) => uploadFlightRecord(ctx),
} satisfies FirmwareProfile;
