/**
 * What the virtual rig's radio children share (virtual-wifi.ts, virtual-ble.ts, virtual-sdr-child.ts):
 * their command-line options, the UDP datagram of an Ethernet frame, and the libpcap session
 * on the air link that hands each captured frame to a pcap writer and stops cleanly.
 *
 * A sniffer stops on SIGTERM/SIGINT without waiting for traffic: node_pcap's close() only returns
 * after the next packet (docs/developer/dependency-traps.md), so it closes its file and exits
 * instead of closing the session; it also exits when Airlock, its parent, is gone.
 */
import { createRequire } from 'node:module';
import { PcapFileWriter } from './pcap-writer.js';
import { exitWhenOrphaned } from './parent-watch.js';

const require = createRequire(import.meta.url);

/** The value after `name` on the command line, or `fallback`; a missing one ends `tool` with exit 2. */
export function childArg(tool: string, name: string, fallback?: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) {
    process.stderr.write(`${tool}: missing ${name}\n`);
    process.exit(2);
  }
  return v;
}

/** The payload of an Ethernet frame carrying IPv4 UDP to `port`, if it is one (cut to the UDP length). */
export function udpPayloadTo(eth: Buffer, port: number): Buffer | undefined {
  if (eth.length < 14 + 20 + 8 || eth.readUInt16BE(12) !== 0x0800) return undefined;
  const ihl = (eth[14]! & 0x0f) * 4;
  if (eth[14 + 9] !== 17) return undefined;
  const udp = 14 + ihl;
  if (eth.length < udp + 8 || eth.readUInt16BE(udp + 2) !== port) return undefined;
  return eth.subarray(udp + 8, Math.min(eth.length, udp + eth.readUInt16BE(udp + 4)));
}

export interface AirSnifferOptions {
  /** pcap file written, with its link type. */
  out: string;
  linkType: number;
  iface: string;
  bufferSize: number;
  /** libpcap filter (none: every frame). */
  filter?: string;
  /** Each captured Ethernet frame with its capture time (ms); writes what it makes of it. */
  onFrame: (eth: Buffer, timeMs: number, writer: PcapFileWriter) => void;
}

/** Captures the air link, prints `ready` once capturing, and writes each record through at once. */
export function runAirSniffer(o: AirSnifferOptions): void {
  const writer = new PcapFileWriter(o.out, o.linkType);
  const pcap = require('pcap') as typeof import('pcap');
  const session = pcap.createSession(o.iface, { buffer_size: o.bufferSize, buffer_timeout: 20, snap_length: 65535, ...(o.filter ? { filter: o.filter } : {}) } as never);
  session.on('packet', (raw: { buf: Buffer; header: Buffer }) => {
    const sec = raw.header.readUInt32LE(0);
    const usec = raw.header.readUInt32LE(4);
    const caplen = raw.header.readUInt32LE(8);
    o.onFrame(raw.buf.subarray(0, caplen), sec * 1000 + usec / 1000, writer);
  });
  // Ready marker for the parent: the session is open and capturing.
  process.stdout.write('ready\n');
  const stop = () => {
    writer.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  exitWhenOrphaned(stop);
}
