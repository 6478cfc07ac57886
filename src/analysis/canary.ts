/**
 * Canary packets: sent by Airlock itself from inside each device's namespace, so a capture
 * can prove it was not blind. Each carries an HMAC-SHA256 under a per-run secret that no
 * firmware sees, so a firmware cannot forge one (docs/technician/virtual-rig.md).
 *
 * Wire format (UDP payload, ASCII, one line):
 *   AIRLOCK-CANARY/1 <runId> <host> <seq> <sentAtMs> <target> <hmac hex, 32 chars>
 * where the HMAC covers everything before it (the first 16 bytes of HMAC-SHA256, hex).
 * Canaries go to UDP port CANARY_PORT, to a lab address and to an outside one.
 */
import { createHmac } from 'node:crypto';

export const CANARY_MAGIC = 'AIRLOCK-CANARY/1';
export const CANARY_PORT = 47474;

export interface Canary {
  runId: string;
  host: string;
  seq: number;
  sentAtMs: number;
  /** `lab` or `outside`. */
  target: 'lab' | 'outside';
}

function mac(secret: Buffer | string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex').slice(0, 32);
}

export function encodeCanary(secret: Buffer | string, c: Canary): Buffer {
  const body = `${CANARY_MAGIC} ${c.runId} ${c.host} ${c.seq} ${c.sentAtMs} ${c.target}`;
  return Buffer.from(`${body} ${mac(secret, body)}`, 'ascii');
}

/**
 * Returns the canary when `payload` is one with a valid mark under `secret`, else null.
 * Without a secret, a packet that merely looks like a canary is NOT a canary: it is
 * treated as ordinary traffic (a firmware could imitate the format).
 */
export function decodeCanary(secret: Buffer | string, payload: Uint8Array): Canary | null {
  if (payload.length < CANARY_MAGIC.length + 40 || payload.length > 256) return null;
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('latin1');
  if (!text.startsWith(CANARY_MAGIC + ' ')) return null;
  const parts = text.split(' ');
  if (parts.length !== 7) return null;
  const [, runId, host, seq, sentAt, target, tag] = parts as [string, string, string, string, string, string, string];
  const body = parts.slice(0, 6).join(' ');
  if (mac(secret, body) !== tag) return null;
  if (target !== 'lab' && target !== 'outside') return null;
  return { runId, host, seq: Number(seq), sentAtMs: Number(sentAt), target };
}
