/** The built-in firmware profiles of the virtual rig (docs/technician/virtual-rig.md, the profile table). */
import { clean } from './clean.js';
import { leakyDns } from './leaky-dns.js';
import { leakyHttps } from './leaky-https.js';
import { leakyHttp } from './leaky-http.js';
import { leakyUdp } from './leaky-udp.js';
import { leakyIpv6 } from './leaky-ipv6.js';
import { leakyWhenOff } from './leaky-when-off.js';
import { leakyDelayed } from './leaky-delayed.js';
import { zombieOff } from './zombie-off.js';
import { syncAtOff } from './sync-at-off.js';
import type { FirmwareProfile } from './profile.js';

export const PROFILES = {
  clean,
  'leaky-dns': leakyDns,
  'leaky-https': leakyHttps,
  'leaky-http': leakyHttp,
  'leaky-udp': leakyUdp,
  'leaky-ipv6': leakyIpv6,
  'leaky-when-off': leakyWhenOff,
  'leaky-delayed': leakyDelayed,
  'zombie-off': zombieOff,
  'sync-at-off': syncAtOff,
} satisfies Record<string, FirmwareProfile>;

export type ProfileName = keyof typeof PROFILES;
export type { FirmwareProfile } from './profile.js';

export function isProfileName(v: string): v is ProfileName {
  return Object.prototype.hasOwnProperty.call(PROFILES, v);
}
