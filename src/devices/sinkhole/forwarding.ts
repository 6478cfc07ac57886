/**
 * Whether this host forwards packets, read from /proc/sys of the reading process's network
 * namespace (the forwarding sysctls are per namespace). A sinkhole that forwards is an uplink:
 * `airlock sinkhole` refuses to start on such a host (src/devices/sinkhole/gateway.ts), and the
 * sinkhole reads it again for every liveness line (src/devices/sinkhole/server.ts), so a gateway
 * switched to forwarding mid-run shows in its log.
 */
import fs from 'node:fs';

const FORWARDING = [
  ['/proc/sys/net/ipv4/ip_forward', 'net.ipv4.ip_forward'],
  ['/proc/sys/net/ipv6/conf/all/forwarding', 'net.ipv6.conf.all.forwarding'],
] as const;

/** The forwarding sysctls that are on (read from /proc/sys of this network namespace). */
export function forwardingOn(procRoot = ''): string[] {
  const on: string[] = [];
  for (const [file, name] of FORWARDING) {
    let v: string;
    try {
      v = fs.readFileSync(procRoot + file, 'utf8').trim();
    } catch {
      // No such sysctl: that protocol is not built into this kernel, so it cannot forward.
      continue;
    }
    if (v !== '0') on.push(`${name}=${v}`);
  }
  return on;
}
