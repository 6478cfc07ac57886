/**
 * Frame types the analyzer knows without judging addresses: the short list of link-local control
 * protocols that cannot leave the link (docs/certifier/what-counts-as-leaving.md), and names for
 * frame types it does not decode, so an INCONCLUSIVE window says which frames it could not judge.
 *
 * Everything not listed here and not decoded (IPv4, IPv6 and the encapsulations in scan.ts) makes
 * its window INCONCLUSIVE: a frame type we cannot read is a frame we cannot clear.
 */

/** Ethertypes of link-local control protocols: read by the next switch or host, never forwarded. */
export const LINK_CONTROL_ETHERTYPES: ReadonlyMap<number, string> = new Map([
  [0x0806, 'ARP'],
  [0x88cc, 'LLDP'],
  [0x8809, 'slow protocols (LACP, marker, link OAM)'],
  [0x888e, 'EAPOL (802.1X)'],
  [0x8808, 'MAC control (PAUSE)'],
  [0x8863, 'PPPoE discovery'],
]);

/** PPP protocols that negotiate the PPP link itself (RFC 1661 LCP and its companions). */
export const PPP_CONTROL_PROTOCOLS: ReadonlyMap<number, string> = new Map([
  [0xc021, 'LCP'],
  [0xc023, 'PAP'],
  [0xc223, 'CHAP'],
  [0xc227, 'EAP'],
  [0x8021, 'IPCP'],
  [0x8057, 'IPV6CP'],
  [0x80fd, 'CCP'],
]);

/** SNAP protocol ids under Cisco's OUI 00-00-0C that are link-local control: CDP, VTP, DTP, PVST+. */
export const CISCO_SNAP_CONTROL: ReadonlyMap<number, string> = new Map([
  [0x2000, 'CDP'],
  [0x2003, 'VTP'],
  [0x2004, 'DTP'],
  [0x010b, 'PVST+'],
]);

/** True for 802.2 LLC frames that are link control: spanning tree (SAP 0x42), XID and TEST. */
export function isLlcControl(dsap: number, ssap: number, control: number): boolean {
  if (dsap === 0x42 && ssap === 0x42) return true; // STP, RSTP, MSTP BPDUs
  const u = control & 0xef; // the poll/final bit aside
  return u === 0xaf || u === 0xe3; // XID, TEST
}

/** Names of some frame types that are not decoded (for the reason of an INCONCLUSIVE verdict). */
const ETHERTYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x88e5, 'MACsec'],
  [0x8137, 'IPX'],
  [0x809b, 'AppleTalk'],
  [0x88f7, 'PTP'],
  [0x8892, 'PROFINET'],
  [0x88a4, 'EtherCAT'],
  [0x88e1, 'HomePlug AV'],
  [0x88dc, 'WSMP (802.11p)'],
  [0x8035, 'RARP'],
]);

// Kinds of unjudged frames (scan.ts keys its counters by kind * 2^40 + value).
export const enum Unjudged {
  ETHERTYPE = 1,
  PPP = 2,
  LLC = 3,
  SNAP = 4,
  GRE = 5,
  MPLS_PAYLOAD = 6,
  LINK_TYPE = 7,
  NESTING = 8,
  GRE_ROUTING = 9,
  /** A DNS query (UDP to port 53) in IP fragments: its questions are not read across fragments. */
  DNS_FRAGMENT = 10,
  /** An IPv6 packet whose extension headers do not end within 8 headers or within the frame. */
  IPV6_EXTENSIONS = 11,
}

const hex = (v: number, digits: number) => '0x' + v.toString(16).padStart(digits, '0');

/** Words for an unjudged frame kind and value, as a reason names it. */
export function describeUnjudged(kind: number, value: number): string {
  switch (kind) {
    case Unjudged.ETHERTYPE: {
      const name = ETHERTYPE_NAMES.get(value);
      return `ethertype ${hex(value, 4)}${name ? ` (${name})` : ''}`;
    }
    case Unjudged.PPP:
      return `PPP protocol ${hex(value, 4)}`;
    case Unjudged.LLC:
      return `802.2 LLC frames of DSAP ${hex(value >> 8, 2)} SSAP ${hex(value & 0xff, 2)}`;
    case Unjudged.SNAP:
      return `SNAP OUI ${hex(Math.floor(value / 65536), 6)} protocol ${hex(value % 65536, 4)}`;
    case Unjudged.GRE:
      return `GRE protocol ${hex(value, 4)}`;
    case Unjudged.GRE_ROUTING:
      return 'GRE with source routing (RFC 1701)';
    case Unjudged.MPLS_PAYLOAD:
      return `MPLS payload starting with nibble ${value} (neither IPv4, IPv6 nor a pseudowire control word)`;
    case Unjudged.LINK_TYPE:
      return `link type ${value}`;
    case Unjudged.DNS_FRAGMENT:
      return 'DNS query split into IP fragments';
    case Unjudged.IPV6_EXTENSIONS:
      return `IPv6 extension headers not ending within 8 headers or the frame (stopped at next header ${value})`;
    case Unjudged.NESTING:
      return `encapsulations nested deeper than ${value}`;
    default:
      return `frame kind ${kind} value ${value}`;
  }
}
