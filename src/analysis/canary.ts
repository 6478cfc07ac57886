/**
 * Canary packets: Airlock's own marked packets, sent where a device's traffic goes (from inside
 * each device's namespace on the virtual rig, from an injection point the rig file names on a
 * real bench), so a capture can prove it was not blind. Each carries an HMAC-SHA256 under a
 * per-run secret that no firmware sees, bound to the packet's own addresses, ports and send
 * time: a firmware can neither forge one nor pass a copy off as Airlock's
 * (docs/technician/proof-of-sight.md).
 *
 * Format 2 (ASCII payload of a UDP datagram, a TCP SYN or an ICMP echo request):
 *   AIRLOCK-CANARY/2 <runId> <host> <seq> <sentAtMs> <target> <protocol> <tag>
 * DNS canaries carry the same fields as the labels of the queried name:
 *   <tag>.<seq>.<sentAtMs>.<target>.<host>.<runId>.canary.airlock.invalid
 * The tag is the first 16 bytes (hex) of HMAC-SHA256(secret, "<fields> <src> <dst> <srcPort> <dstPort>")
 * where the fields are everything before the tag and, for ICMP, the "ports" are the echo
 * identifier and sequence number. Addresses are hashed in one spelling (canonicalAddress).
 *
 * A capture accepts each canary once, and only within CANARY_TOLERANCE_MS of its send time
 * (src/analysis/scan.ts); a second copy, a late copy or a re-addressed one is judged as the
 * firmware's own traffic.
 */
import { createHmac } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './address.js';

export const CANARY_MAGIC = 'AIRLOCK-CANARY/2';
/** UDP and TCP canaries go to this port. */
export const CANARY_PORT = 47474;
/** DNS canaries ask for a name below this one (a reserved TLD: it resolves nowhere). */
export const CANARY_DNS_SUFFIX = 'canary.airlock.invalid';
/** How far a canary's capture time may be from its send time (clocks of sender and capture host). */
export const CANARY_TOLERANCE_MS = 2000;

export const CANARY_PROTOCOLS = ['udp', 'tcp', 'icmp', 'dns'] as const;
export type CanaryProtocol = (typeof CANARY_PROTOCOLS)[number];

export interface Canary {
  runId: string;
  host: string;
  seq: number;
  sentAtMs: number;
  /** `lab` or `outside`. */
  target: 'lab' | 'outside';
  protocol: CanaryProtocol;
}

/** What the HMAC binds a canary to: the packet's addresses and ports (ICMP: echo id and sequence). */
export interface CanaryBinding {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
}

function fields(c: Canary): string {
  return `${CANARY_MAGIC} ${c.runId} ${c.host} ${c.seq} ${c.sentAtMs} ${c.target} ${c.protocol}`;
}

/** One spelling per address (the analyzer's), so sender and analyzer hash the same text. */
export function canonicalAddress(a: string): string {
  if (isIPv6(a)) {
    const w = parseIPv6(a);
    return formatIPv6(w[0]!, w[1]!, w[2]!, w[3]!);
  }
  return formatIPv4(parseIPv4(a));
}

function mac(secret: Buffer | string, body: string, b: CanaryBinding): string {
  const bound = `${body} ${canonicalAddress(b.src)} ${canonicalAddress(b.dst)} ${b.srcPort} ${b.dstPort}`;
  return createHmac('sha256', secret).update(bound).digest('hex').slice(0, 32);
}

/** The payload of a UDP, TCP or ICMP canary. */
export function encodeCanary(secret: Buffer | string, c: Canary, b: CanaryBinding): Buffer {
  const body = fields(c);
  return Buffer.from(`${body} ${mac(secret, body, b)}`, 'ascii');
}

const LABEL = /^[A-Za-z0-9_-]{1,63}$/;

/** True when host and run id can travel as DNS labels (the canary child sends no DNS canary otherwise). */
export function dnsCanaryPossible(c: Pick<Canary, 'host' | 'runId'>): boolean {
  return LABEL.test(c.host) && LABEL.test(c.runId);
}

/** The name a DNS canary asks for. */
export function canaryDnsName(secret: Buffer | string, c: Canary, b: CanaryBinding): string {
  const tag = mac(secret, fields(c), b);
  return `${tag}.${c.seq}.${c.sentAtMs}.${c.target}.${c.host}.${c.runId}.${CANARY_DNS_SUFFIX}`;
}

function checked(secret: Buffer | string, c: Canary, tag: string, b: CanaryBinding): Canary | null {
  if (c.target !== 'lab' && c.target !== 'outside') return null;
  if (!Number.isSafeInteger(c.seq) || !Number.isFinite(c.sentAtMs)) return null;
  return mac(secret, fields(c), b) === tag ? c : null;
}

/**
 * The canary when `payload` is one with a valid mark under `secret` for exactly these
 * addresses and ports, else null. A packet that merely looks like a canary, or a canary
 * moved to other addresses or ports, is NOT one: it is judged as ordinary traffic.
 */
export function decodeCanary(secret: Buffer | string, payload: Uint8Array, b: CanaryBinding): Canary | null {
  if (payload.length < CANARY_MAGIC.length + 40 || payload.length > 256) return null;
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('latin1');
  if (!text.startsWith(CANARY_MAGIC + ' ')) return null;
  const parts = text.split(' ');
  if (parts.length !== 8) return null;
  const [, runId, host, seq, sentAt, target, protocol, tag] = parts as [string, string, string, string, string, string, string, string];
  if (protocol !== 'udp' && protocol !== 'tcp' && protocol !== 'icmp') return null;
  const c: Canary = { runId, host, seq: Number(seq), sentAtMs: Number(sentAt), target: target as Canary['target'], protocol };
  return checked(secret, c, tag, b);
}

/** The DNS canary a queried name is, or null (any name not below CANARY_DNS_SUFFIX is not one). */
export function decodeDnsCanary(secret: Buffer | string, name: string, b: CanaryBinding): Canary | null {
  if (!name.endsWith('.' + CANARY_DNS_SUFFIX)) return null;
  const labels = name.slice(0, -CANARY_DNS_SUFFIX.length - 1).split('.');
  if (labels.length !== 6) return null;
  const [tag, seq, sentAt, target, host, runId] = labels as [string, string, string, string, string, string];
  const c: Canary = { runId, host, seq: Number(seq), sentAtMs: Number(sentAt), target: target as Canary['target'], protocol: 'dns' };
  return checked(secret, c, tag, b);
}

/** A canary as its sender recorded it: what the capture must hold, once, near `sentAtMs`. */
export interface SentCanary {
  /** The injection point that sent it. */
  host: string;
  seq: number;
  target: 'lab' | 'outside';
  protocol?: 'udp' | 'tcp' | 'icmp' | 'dns';
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  sentAtMs: number;
}
