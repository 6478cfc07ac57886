/**
 * The virtual rig's Wi-Fi monitor, run as a child inside the drone's namespace:
 *   virtual-wifi --out FILE [--iface air0] [--signal -40] [--channel 2437]
 * It captures the air link with libpcap and writes a radiotap pcap in which every Ethernet
 * frame that crossed the air becomes an 802.11 data frame (transmitter = the sender's MAC,
 * receiver = the destination MAC), and every UDP datagram to REMOTE_ID_PORT becomes a beacon
 * from the sender carrying the Remote ID vendor element with the datagram's message pack.
 * So emissions appear exactly when the firmware transmits.
 *
 * Each record is written through at once; capture and stop as src/sim/radio/air-sniffer.ts says.
 */
import { LINKTYPE_IEEE802_11_RADIOTAP } from './pcap-writer.js';
import { beacon, dataFrame, odidElement, radiotapHeader } from './frames.js';
import { REMOTE_ID_PORT } from './remote-id.js';
import { childArg, runAirSniffer, udpPayloadTo } from './air-sniffer.js';

function macAt(b: Buffer, o: number): string {
  return [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Remote ID message pack carried by an Ethernet frame (IPv4 UDP to REMOTE_ID_PORT), if any. */
export function remoteIdPayload(eth: Buffer): Buffer | undefined {
  return udpPayloadTo(eth, REMOTE_ID_PORT);
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

function main(): void {
  const arg = (name: string, fallback?: string) => childArg('virtual-wifi', name, fallback);
  const signalDbm = Number(arg('--signal', '-40'));
  const channelMhz = Number(arg('--channel', '2437'));
  let seq = 0;
  let counter = 0;
  runAirSniffer({
    out: arg('--out'),
    linkType: LINKTYPE_IEEE802_11_RADIOTAP,
    iface: arg('--iface', 'air0'),
    bufferSize: 8 * 1024 * 1024,
    onFrame: (eth, t, writer) => {
      const frame = airFrame(eth, { signalDbm, channelMhz, seq: seq++, counter });
      if (remoteIdPayload(eth)) counter = (counter + 1) & 0xff;
      if (frame) writer.write(t, frame);
    },
  });
}

if (process.argv[1] && /virtual-wifi\.[jt]s$/.test(process.argv[1])) main();
