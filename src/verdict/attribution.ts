/**
 * Which device a network finding belongs to, and what an allowed name exempts: two rules that
 * must never hide a finding (docs/certifier/what-counts-as-leaving.md).
 *
 * Attribution: a device is known by the addresses the rig file gives it and by what the capture
 * shows: the MACs that sent from those addresses, and every other address those MACs sent from
 * (a DHCP lease, a SLAAC or privacy IPv6 address, a second address the firmware added). A finding
 * that no device can be tied to is still a finding for every assertion: only a finding proven to
 * belong to another device is left to that device's assertions.
 *
 * Allowed names: a name a scenario or the lab allows exempts only the lab-internal DNS exchange
 * that asks for it. A flow to an outside address is egress whatever names it carried, and a lab
 * DNS flow that also asked for other names keeps those names.
 */
import type { EgressPolicy, FlowSummary, NetworkFinding } from '../analysis/index.js';

export interface DeviceIdentity {
  addresses: Set<string>;
  macs: Set<string>;
}

/** The identities of the rig's devices: configured addresses, then the MACs and addresses the capture ties to them. */
export function deviceIdentities(configured: Record<string, { addresses: string[]; macs?: string[] }>, flows: FlowSummary[]): Map<string, DeviceIdentity> {
  const ids = new Map<string, DeviceIdentity>();
  for (const [name, c] of Object.entries(configured)) {
    ids.set(name, { addresses: new Set(c.addresses.map((a) => a.toLowerCase())), macs: new Set((c.macs ?? []).map((m) => m.toLowerCase())) });
  }
  const sent = flows.filter((f) => f.srcMac !== undefined);
  // To a fixed point: an address learns its MAC, a MAC learns its other addresses.
  for (let changed = true; changed; ) {
    changed = false;
    for (const id of ids.values()) {
      for (const f of sent) {
        const src = f.src.toLowerCase();
        if (id.addresses.has(src) && !id.macs.has(f.srcMac!)) {
          id.macs.add(f.srcMac!);
          changed = true;
        }
        if (id.macs.has(f.srcMac!) && !id.addresses.has(src)) {
          id.addresses.add(src);
          changed = true;
        }
      }
    }
  }
  return ids;
}

/** The devices a finding is tied to by its addresses or its sending MAC (empty: none can be named). */
export function attributedTo(f: NetworkFinding, ids: Map<string, DeviceIdentity>): string[] {
  const out: string[] = [];
  const src = f.src.toLowerCase();
  const dst = f.dst.toLowerCase();
  for (const [name, id] of ids) {
    if (id.addresses.has(src) || id.addresses.has(dst) || (f.srcMac !== undefined && id.macs.has(f.srcMac))) out.push(name);
  }
  return out;
}

/** The findings an assertion about `devices` judges: theirs, and every finding no device can be tied to. */
export function findingsOfDevices(findings: NetworkFinding[], devices: string[], ids: Map<string, DeviceIdentity>): NetworkFinding[] {
  return findings.filter((f) => {
    const owners = attributedTo(f, ids);
    return owners.length === 0 || owners.some((o) => devices.includes(o));
  });
}

/** True when the finding's flow has an end outside the lab (its names do not matter then). */
function toOutside(f: NetworkFinding, lab: EgressPolicy): boolean {
  try {
    return lab.judge(f.src, f.dst) || lab.judge(f.dst, f.src);
  } catch {
    return true; // addresses that cannot be read are not proof of staying inside
  }
}

/**
 * Applies allowed names: a lab-internal DNS finding loses the names `names` allows and is dropped
 * only when none is left; a finding that reaches an outside address is kept whole.
 */
export function withoutAllowedNames(findings: NetworkFinding[], names: EgressPolicy, lab: EgressPolicy): NetworkFinding[] {
  const out: NetworkFinding[] = [];
  for (const f of findings) {
    if (toOutside(f, lab)) {
      out.push(f);
      continue;
    }
    const all = f.names ?? (f.name ? [{ name: f.name, packet: f.packet, time: f.time, protocol: f.protocol }] : []);
    if (all.length === 0) {
      out.push(f);
      continue;
    }
    const left = all.filter((n) => !names.nameAllowed(n.name));
    if (left.length === all.length) out.push(f);
    else if (left.length > 0) {
      const first = left[0]!;
      out.push({
        ...f,
        name: first.name,
        names: left,
        packet: first.packet,
        time: first.time,
        summary: `DNS ${left.length > 1 ? 'queries' : 'query'} for ${left.map((n) => n.name).join(', ')} (a resolver would carry the name out of the lab): ${f.src}${f.srcPort !== undefined ? ':' + f.srcPort : ''} -> ${f.dst}${f.dstPort !== undefined ? ':' + f.dstPort : ''}`,
      });
    }
  }
  return out;
}
