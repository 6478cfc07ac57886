/**
 * The one finding type every analyser returns (docs/certifier/evidence.md), and verdicts.
 * A finding names its evidence: the raw file and a pointer into it.
 */

export type Verdict = 'PASS' | 'FAIL' | 'INCONCLUSIVE';

interface FindingBase {
  /** Raw file the evidence is in, relative to the run directory (or as given to `analyze`). */
  file: string;
  /** ISO 8601 UTC time of the (first) evidence. */
  time: string;
  /** One line a person reads. */
  summary: string;
}

/** A name a network finding carried: a DNS query, TLS or QUIC server name, or HTTP Host. */
export interface FoundName {
  name: string;
  /** 1-based frame number of the first packet that carried it. */
  packet: number;
  time: string;
  /** `dns`, `tls`, `quic` or `http`. */
  protocol: string;
}

export interface NetworkFinding extends FindingBase {
  kind: 'network';
  /** 1-based frame number of the first packet of the flow (as Wireshark numbers frames). */
  packet: number;
  lastPacket: number;
  count: number;
  src: string;
  dst: string;
  srcPort?: number;
  dstPort?: number;
  /** `tcp`, `udp`, `icmp`, `icmpv6`, `dns`, `tls`, `http`, `quic`, or an IP protocol number. */
  protocol: string;
  /** DNS query name, TLS server name or HTTP Host, where one is known (the first of `names`). */
  name?: string;
  /** Every name the flow carried out (each once, with the packet that first carried it); grouping never drops one. */
  names?: FoundName[];
  /** Source MAC of the flow's first packet (the sending device on the captured link), when the capture has one. */
  srcMac?: string;
  /** Annotation from the known-endpoint catalogue; explains, never decides. */
  endpoint?: { vendor: string; service: string; source: string; kind?: 'reviewed' | 'observed' | 'documented' };
  /** Process or app that sent it, where the capture's per-packet header names one (Apple PKTAP, PCAPdroid trailer). */
  process?: string;
  /** Why the packet is a finding: `egress` (outside address) or `dns-name` (name leaves via a resolver), `attempt`. */
  reason?: string;
}

export interface RadioFinding extends FindingBase {
  kind: 'radio';
  /** Line of a sweep CSV, or packet of a Wi-Fi/BLE capture. */
  line?: number;
  packet?: number;
  /** Last packet and number of frames of a grouped broadcast (Remote ID, probe requests). */
  lastPacket?: number;
  count?: number;
  /** How a broadcast was carried: `wifi-beacon`, `wifi-nan`, `ble4-legacy`, `ble5-extended`, ... */
  carrier?: string;
  band?: string;
  transmitter?: string;
  /** End of the emission span (ISO 8601 UTC). */
  until?: string;
  peakDbm?: number;
  /** Decoded Remote ID / drone-ID fields, where the finding is a broadcast. */
  fields?: Record<string, string | number>;
}

export interface PowerFinding extends FindingBase {
  kind: 'power';
  line: number;
  channel: string;
  amps: number;
  limitAmps: number;
}

export interface MavlinkFinding extends FindingBase {
  kind: 'mavlink';
  packet: number;
  link: string;
  count: number;
  systemId: number;
  messages: Record<string, number>;
}

export type Finding = NetworkFinding | RadioFinding | PowerFinding | MavlinkFinding;

/** FAIL beats INCONCLUSIVE beats PASS (docs/technician/errors-and-exit-codes.md). */
export function worstVerdict(verdicts: Iterable<Verdict>): Verdict {
  let worst: Verdict = 'PASS';
  for (const v of verdicts) {
    if (v === 'FAIL') return 'FAIL';
    if (v === 'INCONCLUSIVE') worst = 'INCONCLUSIVE';
  }
  return worst;
}
