/**
 * The virtual rig's Wi-Fi monitor, run as a child inside the drone's namespace:
 *   virtual-wifi --out FILE [--iface air0] [--signal -40] [--channel 2437]
 * It captures the air link with libpcap and writes a radiotap pcap in which every Ethernet
 * frame that crossed the air becomes an 802.11 data frame (transmitter = the sender's MAC,
 * receiver = the destination MAC), and every UDP datagram to REMOTE_ID_PORT becomes a beacon
 * from the sender carrying the Remote ID vendor element with the datagram's message pack.
 * So emissions appear exactly when the firmware transmits.
 *
 * Each record is written through at once. It stops on SIGTERM/SIGINT without waiting for
 * traffic: node_pcap's close() only returns after the next packet (docs/developer/dependency-traps.md), so the
 * process closes its file and exits instead of closing the session.
 */
import { createRequire } from 'node:module';
import { PcapFileWriter, LINKTYPE_IEEE802_11_RADIOTAP } from './pcap-writer.js';
import { beacon, dataFrame, odidElement, radiotapHeader } from './frames.js';
import { REMOTE_ID_PORT } from './remote-id.js';
import { exitWhenOrphaned } from './parent-watch.js';

const require = createRequire(import.meta.url);

function macAt(b: Buffer, o: number): string {
  return [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Remote ID message pack carried by an Ethernet frame (IPv4 UDP to REMOTE_ID_PORT), if any. */
export function remoteIdPayload(eth: Buffer): Buffer | undefined {
  if (eth.length < 14 + 20 + 8 || eth.readUInt16BE(12) !== 0x0800) return undefined;
  const ihl = (eth[14]! & 0x0f) * 4;
  if (eth[14 + 9] !== 17) return undefined;
  const udp = 14 + ihl;
  if (eth.length < udp + 8 || eth.readUInt16BE(udp + 2) !== REMOTE_ID_PORT) return undefined;
  return eth.subarray(udp + 8, Math.min(eth.length, udp + eth.readUInt16BE(udp + 4)));
}

/** The 802.11 frame (with radiotap) that stands for one Ethernet frame on the air. */
export function airFrame(eth: Buffer, o: { signalDbm: number; channelMhz: number; seq: number; counter: number }): Buffer | undefined {
  if (eth.length < 14) return undefined;
  const ta = macAt(eth, 6);
  const ra = macAt(eth, 0);
  const rt = radiotapHeader({ signalDbm: o.signalDbm, channelMhz: o.channelMhz });
  const rid = remoteIdPayload(eth);
  if (rid && rid.length > 0 && rid.length <= 250) {
    return Buffer.concat([rt, beacon({ ta, ssid: `RID-${ta.slice(9).replace(/:/g, '')}`, seq: o.seq, elements: [odidElement(o.counter, rid)] })]);
  }
  return Buffer.concat([rt, dataFrame({ ta, ra, bssid: ta, etherType: eth.readUInt16BE(12), payload: eth.subarray(14), seq: o.seq })]);
}

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) {
    process.stderr.write(`virtual-wifi: missing ${name}\n`);
    process.exit(2);
  }
  return v;
}

function main(): void {
  const out = arg('--out');
  const iface = arg('--iface', 'air0');
  const signalDbm = Number(arg('--signal', '-40'));
  const channelMhz = Number(arg('--channel', '2437'));
  const writer = new PcapFileWriter(out, LINKTYPE_IEEE802_11_RADIOTAP);
  const pcap = require('pcap') as typeof import('pcap');
  let seq = 0;
  let counter = 0;
  const session = pcap.createSession(iface, { buffer_size: 8 * 1024 * 1024, buffer_timeout: 20, snap_length: 65535 } as never);
  session.on('packet', (raw: { buf: Buffer; header: Buffer }) => {
    const sec = raw.header.readUInt32LE(0);
    const usec = raw.header.readUInt32LE(4);
    const caplen = raw.header.readUInt32LE(8);
    const eth = raw.buf.subarray(0, caplen);
    const frame = airFrame(eth, { signalDbm, channelMhz, seq: seq++, counter });
    if (remoteIdPayload(eth)) counter = (counter + 1) & 0xff;
    if (frame) writer.write(sec * 1000 + usec / 1000, frame);
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

if (process.argv[1] && /virtual-wifi\.[jt]s$/.test(process.argv[1])) main();
