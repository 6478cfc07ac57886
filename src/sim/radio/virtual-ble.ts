/**
 * The virtual rig's BLE sniffer, run as a child inside the drone's namespace:
 *   virtual-ble --out FILE [--iface air0] [--rssi -72]
 * The drone's firmware broadcasts Remote ID over Bluetooth 5 long range while it runs; on the
 * virtual rig that broadcast is a UDP datagram to REMOTE_ID_BLE_PORT on the air link holding
 * the message pack. This sniffer captures the air link with libpcap and writes, for each such
 * datagram, the packets a real nRF Sniffer for Bluetooth LE would record of one extended
 * advertising event on LE Coded PHY: ADV_EXT_IND on a primary channel, AUX_ADV_IND with the
 * advertiser address and the first part of the service data (UUID 0xFFFA, application code
 * 0x0D, message counter, pack), AUX_CHAIN_IND packets with the rest. The file is a pcap of
 * link type 272 (nRF Sniffer header, protocol version 3). So a BLE broadcast appears in the
 * capture exactly when the firmware sends one.
 *
 * Each record is written through at once; capture and stop as src/sim/radio/air-sniffer.ts says.
 */
import { LINKTYPE_NORDIC_BLE } from './pcap-writer.js';
import { adStructure, bleExtAdvertisingEvent, nordicBle } from './frames.js';
import { REMOTE_ID_BLE_PORT } from './remote-id.js';
import { childArg, runAirSniffer, udpPayloadTo } from './air-sniffer.js';

/** The message pack of an Ethernet frame carrying IPv4 UDP to REMOTE_ID_BLE_PORT, if it is one. */
export function bleRemoteIdPayload(eth: Buffer): Buffer | undefined {
  return udpPayloadTo(eth, REMOTE_ID_BLE_PORT);
}

/** A static random BLE address for a MAC: the same bytes, the two top bits set (Core Vol 6 Part B 1.3.2.1). */
export function staticRandomAddress(mac: string): string {
  const b = mac.split(':').map((h) => parseInt(h, 16));
  b[0] = b[0]! | 0xc0;
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * The nRF Sniffer records (link type 272, version 3, LE Coded) of one extended advertising
 * event carrying `pack`, with their time offsets in ms from the event's start.
 */
export function bleRemoteIdEvent(o: { advertiser: string; pack: Buffer; counter: number; did: number; rssiDbm: number; packetCounter: number }): { offsetMs: number; data: Buffer }[] {
  const ad = adStructure(0x16, Buffer.concat([Buffer.from([0xfa, 0xff, 0x0d, o.counter & 0xff]), o.pack]));
  const packets = bleExtAdvertisingEvent({ advertiser: o.advertiser, adi: { sid: 0, did: o.did & 0x0fff }, advData: ad, phy: 'coded', maxData: 100 });
  return packets.map((p, i) => ({
    offsetMs: i === 0 ? 0 : 3 + (i - 1) * 0.6,
    data: nordicBle(p.ll, { channel: p.channel, rssiDbm: o.rssiDbm, version: 3, phy: 'coded', auxType: i <= 1 ? 0 : 1, counter: (o.packetCounter + i) & 0xffff }),
  }));
}

function main(): void {
  const arg = (name: string, fallback?: string) => childArg('virtual-ble', name, fallback);
  const rssiDbm = Number(arg('--rssi', '-72'));
  let counter = 0;
  let did = 0;
  let packetCounter = 0;
  runAirSniffer({
    out: arg('--out'),
    linkType: LINKTYPE_NORDIC_BLE,
    iface: arg('--iface', 'air0'),
    bufferSize: 4 * 1024 * 1024,
    filter: `udp dst port ${REMOTE_ID_BLE_PORT}`,
    onFrame: (eth, t, writer) => {
      const pack = bleRemoteIdPayload(eth);
      if (!pack || pack.length === 0 || pack.length > 240) return;
      const mac = [...eth.subarray(6, 12)].map((x) => x.toString(16).padStart(2, '0')).join(':');
      const recs = bleRemoteIdEvent({ advertiser: staticRandomAddress(mac), pack, counter, did, rssiDbm, packetCounter });
      for (const r of recs) writer.write(t + r.offsetMs, r.data);
      counter = (counter + 1) & 0xff;
      did = (did + 1) & 0x0fff;
      packetCounter = (packetCounter + recs.length) & 0xffff;
    },
  });
}

if (process.argv[1] && /virtual-ble\.[jt]s$/.test(process.argv[1])) main();
