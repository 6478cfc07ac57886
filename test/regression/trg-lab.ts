/**
 * The regression tests' lab: a netns pair `trg-<id>-dut` (10.231.0.10, the drone) and
 * `trg-<id>-sink` (10.231.0.1, the lab gateway, holding the documentation "outside" address
 * 203.0.113.7 on its loopback). No IPv6 on the link: the kernel's link-up chatter would make the
 * run-to-run comparisons depend on timing.
 */
import { createNetnsPair, startTcpdump, type NetnsPair } from '../utils/netns-pair.js';

export const LAB_NET = '10.231.0.0/24';
export const DUT = '10.231.0.10';
export const SINK = '10.231.0.1';
export const OUTSIDE = '203.0.113.7';

export function createTrgLab(): NetnsPair {
  return createNetnsPair({
    tag: 'trg',
    innerName: 'dut',
    gatewayName: 'sink',
    ipv4: { inner: DUT, gateway: SINK, prefixLen: 24 },
    outside: [OUTSIDE],
  });
}

/** Starts tcpdump on the DUT's link; resolves once it listens; the returned function stops it (SIGINT) and waits. */
export function captureDut(lab: NetnsPair, file: string): Promise<() => Promise<void>> {
  return startTcpdump(lab.inner, lab.innerIf, file, { drainMs: 200 });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
