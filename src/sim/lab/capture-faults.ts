/**
 * Blind captures on purpose, for tests (rig option `captures.network.<x>.fault`, virtual rig
 * only; docs/technician/proof-of-sight.md). Each is built from the parts a real bench goes blind
 * with, so the proof-of-sight checks meet the real thing:
 *
 * - `wrong_interface`: the capture listens on a veth pair of its own in the lab namespace that
 *   nothing is attached to (a NIC on the wrong switch port: it carries nothing of the devices).
 * - `interface_down`: the capture listens on a switch-style mirror of its port (below), and the
 *   capture's end of the mirror link is set down (`ip link set ... down`) once libpcap has it
 *   open. libpcap refuses to open an interface that is down ("That device is not up"), so a
 *   technician would have noticed that one; an interface that goes down while the capture runs
 *   is what records silence.
 * - `filter_hides`: a real BPF capture filter in libpcap (`not tcp`, ...).
 * - `mirror_drops_vlan`: the capture listens on a mirror of its port that does not copy frames of
 *   one 802.1Q VLAN, the VLAN the device's link carries its traffic in (vlan.ts).
 *
 * The mirror is what a switch's SPAN session is: the kernel copies every frame the port sends and
 * receives (tc clsact + mirred, ingress and egress) to a mirror link, a veth pair whose far end
 * the capture opens. The device's own link is not touched, so only this capture is blind and the
 * others still prove what the device did.
 */
import type { CaptureFault, HiddenProtocol } from '../../config/types.js';
import { LabConfigError } from './errors.js';

/** The capture filter that hides each protocol (libpcap syntax, pcap-filter(7)). */
export const HIDING_FILTER: Record<HiddenProtocol, string> = {
  tcp: 'not tcp',
  udp: 'not udp',
  icmp: 'not icmp and not icmp6',
  dns: 'not port 53',
  ip6: 'not ip6',
};

/** How one faulted capture is wired in the lab namespace. */
export interface FaultWiring {
  capture: string;
  fault: CaptureFault;
  /** Capture side of the capture's own veth pair (what libpcap opens), or absent for filter_hides. */
  iface?: string;
  /** Switch side of that pair: where the mirror copies frames to. */
  peer?: string;
  /** The lab bridge port mirrored (interface_down, mirror_drops_vlan). */
  port?: string;
}

/** The wiring of every faulted capture; `ports` are the lab bridge's host ports. */
export function faultWirings(captures: Array<{ name: string; interface: string; fault?: CaptureFault }>, ports: string[]): Record<string, FaultWiring> {
  const out: Record<string, FaultWiring> = {};
  let i = 0;
  for (const c of captures) {
    if (!c.fault) continue;
    const w: FaultWiring = { capture: c.name, fault: c.fault };
    if (typeof c.fault === 'object' && 'filterHides' in c.fault) {
      out[c.name] = w;
      continue;
    }
    w.iface = `cf${i}b`;
    w.peer = `cf${i}a`;
    i++;
    if (c.fault !== 'wrong_interface') {
      if (!ports.includes(c.interface)) {
        throw new LabConfigError(`capture ${c.name}: a mirror fault needs a lab host's port to mirror (interface: ${ports.join(' | ')}), not ${JSON.stringify(c.interface)}`);
      }
      w.port = c.interface;
    }
    out[c.name] = w;
  }
  return out;
}

/** The capture filter of a capture with `fault`, combined with the rig's own filter. */
export function faultFilter(fault: CaptureFault | undefined, filter: string | undefined): string | undefined {
  if (!fault || typeof fault !== 'object' || !('filterHides' in fault)) return filter;
  const hide = HIDING_FILTER[fault.filterHides];
  return filter ? `(${filter}) and (${hide})` : hide;
}

/** `ip -batch` lines (lab namespace) that make each faulted capture's own veth pair. */
export function faultLinks(w: Record<string, FaultWiring>): string[] {
  const lines: string[] = [];
  for (const f of Object.values(w)) {
    if (!f.iface || !f.peer) continue;
    // No addresses of its own (addrgenmode none): a quiet link says nothing unless mirrored to.
    lines.push(`link add ${f.peer} type veth peer name ${f.iface}`, `link set ${f.peer} addrgenmode none`, `link set ${f.iface} addrgenmode none`, `link set ${f.peer} up`, `link set ${f.iface} up`);
  }
  return lines;
}
