/**
 * docs/technician/analyze.md "What counts as leaving the lab", as code.
 *
 * A packet is a finding when its source or destination is outside the lab's CIDRs, except where
 * it cannot leave the link: limited broadcast (and the directed broadcast of a lab subnet), IPv4
 * 224.0.0.0/24 and 239.0.0.0/8, IPv6 link-local unicast and multicast of scope 5 or less, and the
 * unspecified source used by DHCP (0.0.0.0, UDP 68 -> 67) and by duplicate-address detection
 * (::, ICMPv6). A DNS query for a name outside `.local` (and outside the lab's own names) is a
 * finding even to a lab host. Non-IP frames never reach this class.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { parseCidr, parseIPv4, parseIPv6, type Cidr } from './address.js';
import { LabSpecError } from './errors.js';

const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;

export class EgressPolicy {
  private readonly v4Net: Uint32Array;
  private readonly v4Mask: Uint32Array;
  private readonly v4Bcast: Uint32Array;
  private readonly v6: Cidr[];
  private readonly names: string[];

  constructor(lab: string[], labNames: string[] = []) {
    if (lab.length === 0) throw new LabSpecError('no lab CIDR given (--lab CIDR)');
    const cidrs = lab.map(parseCidr);
    const v4 = cidrs.filter((c) => c.family === 4);
    this.v4Net = Uint32Array.from(v4.map((c) => c.words[0]!));
    this.v4Mask = Uint32Array.from(v4.map((c) => c.masks[0]!));
    // Directed broadcast of a lab subnet (not for /31 and /32, which have none).
    this.v4Bcast = Uint32Array.from(v4.filter((c) => c.prefix < 31).map((c) => (c.words[0]! | ~c.masks[0]!) >>> 0));
    this.v6 = cidrs.filter((c) => c.family === 6);
    this.names = labNames.map((n) => n.trim().toLowerCase().replace(/^\*?\./, '').replace(/\.$/, '')).filter(Boolean);
  }

  inLab4(a: number): boolean {
    const n = this.v4Net;
    const m = this.v4Mask;
    for (let i = 0; i < n.length; i++) if (((a & m[i]!) >>> 0) === n[i]) return true;
    return false;
  }

  inLab6(a0: number, a1: number, a2: number, a3: number): boolean {
    for (const c of this.v6) {
      const w = c.words;
      const m = c.masks;
      if (((a0 & m[0]!) >>> 0) === w[0] && ((a1 & m[1]!) >>> 0) === w[1] && ((a2 & m[2]!) >>> 0) === w[2] && ((a3 & m[3]!) >>> 0) === w[3]) {
        return true;
      }
    }
    return false;
  }

  /** A destination a router never forwards off the link. */
  confined4(d: number): boolean {
    if (d === 0xffffffff) return true;
    if (d >>> 8 === 0xe00000) return true; // 224.0.0.0/24
    if (d >>> 24 === 239) return true; // 239.0.0.0/8
    const b = this.v4Bcast;
    for (let i = 0; i < b.length; i++) if (b[i] === d) return true;
    return false;
  }

  confined6(d0: number): boolean {
    if (d0 >>> 22 === 0x3fa) return true; // fe80::/10 link-local unicast
    if (d0 >>> 24 === 0xff) return ((d0 >>> 16) & 0xf) <= 5; // multicast, scope nibble <= 5
    return false;
  }

  /** True when the IPv4 packet src -> dst is a finding. */
  egress4(s: number, d: number, proto: number, sport: number, dport: number): boolean {
    if (this.confined4(d)) return false;
    if (!this.inLab4(d)) return true;
    if (this.inLab4(s)) return false;
    // Unspecified source of a DHCP client.
    return !(s === 0 && proto === PROTO_UDP && sport === 68 && dport === 67);
  }

  /** True when the IPv6 packet src -> dst is a finding. */
  egress6(s0: number, s1: number, s2: number, s3: number, d0: number, d1: number, d2: number, d3: number, proto: number): boolean {
    if (this.confined6(d0)) return false;
    if (!this.inLab6(d0, d1, d2, d3)) return true;
    if (this.inLab6(s0, s1, s2, s3)) return false;
    if (s0 >>> 22 === 0x3fa) return false; // a link-local source cannot be routed off the link
    // Unspecified source of duplicate-address detection / MLD.
    return !((s0 | s1 | s2 | s3) === 0 && proto === PROTO_ICMPV6);
  }

  /** True when a DNS query for `name` may be asked (it is under `.local` or one of the lab's names). */
  nameAllowed(name: string): boolean {
    const n = name.toLowerCase().replace(/\.$/, '');
    if (n === 'local' || n.endsWith('.local')) return true;
    for (const l of this.names) if (n === l || n.endsWith('.' + l)) return true;
    return false;
  }

  /** String form, for tests and the orchestrator's own checks. */
  judge(src: string, dst: string, proto = PROTO_UDP, sport = 0, dport = 0): boolean {
    if (isIPv4(src) && isIPv4(dst)) return this.egress4(parseIPv4(src), parseIPv4(dst), proto, sport, dport);
    if (isIPv6(src) && isIPv6(dst)) {
      const s = parseIPv6(src);
      const d = parseIPv6(dst);
      return this.egress6(s[0]!, s[1]!, s[2]!, s[3]!, d[0]!, d[1]!, d[2]!, d[3]!, proto);
    }
    throw new LabSpecError(`not a pair of addresses of one family: ${src} -> ${dst}`);
  }
}
