import type { FirmwareProfile } from './profile.js';

/** Lab traffic only; after a soft power-off: nothing runs. */
export const clean: FirmwareProfile = { summary: 'lab traffic only (MAVLink, mDNS, radio link); silent after soft power-off' };
