/**
 * Builders for the frames the virtual radio writes (and the tests use as fixtures): radiotap
 * headers with correct field alignment, 802.11 beacons, probe requests, data frames, NAN
 * service discovery frames, control frames, the Remote ID and DJI drone-ID vendor elements,
 * and BLE advertising packets in the three BLE link types. Written from the published
 * formats (radiotap.org, IEEE 802.11, Wi-Fi Aware, Bluetooth Core Vol 6 Part B, ASTM F3411).
 */
import { createHash } from 'node:crypto';

// ---------------------------------------------------------------- radiotap

/** Alignment and size of radiotap fields 0..27 (radiotap.org "Defined fields"). */
export const RADIOTAP_FIELDS: ReadonlyArray<readonly [align: number, size: number]> = [
  [8, 8], // 0 TSFT
  [1, 1], // 1 Flags
  [1, 1], // 2 Rate
  [2, 4], // 3 Channel
  [1, 2], // 4 FHSS
  [1, 1], // 5 dBm antenna signal
  [1, 1], // 6 dBm antenna noise
  [2, 2], // 7 Lock quality
  [2, 2], // 8 TX attenuation
  [2, 2], // 9 dB TX attenuation
  [1, 1], // 10 dBm TX power
  [1, 1], // 11 Antenna
  [1, 1], // 12 dB antenna signal
  [1, 1], // 13 dB antenna noise
  [2, 2], // 14 RX flags
  [2, 2], // 15 TX flags
  [1, 1], // 16 RTS retries
  [1, 1], // 17 data retries
  [4, 8], // 18 XChannel
  [1, 3], // 19 MCS
  [4, 8], // 20 A-MPDU status
  [2, 12], // 21 VHT
  [8, 12], // 22 timestamp
  [2, 12], // 23 HE
  [2, 12], // 24 HE-MU
  [2, 6], // 25 HE-MU-other-user
  [1, 1], // 26 0-length PSDU
  [2, 4], // 27 L-SIG
];

export interface RadiotapOptions {
  /** dBm antenna signal of the combined signal. */
  signalDbm: number;
  /** Per-antenna signals: written as extra radiotap-namespace bitmaps (as Linux does). */
  antennas?: number[];
  channelMhz?: number;
  tsft?: bigint;
  /** Rate in 500 kb/s units. */
  rate?: number;
}

/**
 * A radiotap header. With `antennas`, the first bitmap carries TSFT, Flags, Rate, Channel,
 * antenna signal and RX flags, then one bitmap per antenna (antenna signal + antenna), chained
 * with bits 29 (radiotap namespace) and 31 (extended bitmap), as mac80211 writes them.
 */
export function radiotapHeader(o: RadiotapOptions): Buffer {
  const antennas = o.antennas ?? [];
  const bitmaps: { bit: number; value: Buffer }[][] = [];
  const u8 = (v: number) => Buffer.from([v & 0xff]);
  const s8 = (v: number) => {
    const b = Buffer.alloc(1);
    b.writeInt8(Math.max(-128, Math.min(127, Math.round(v))));
    return b;
  };
  const tsft = Buffer.alloc(8);
  tsft.writeBigUInt64LE(o.tsft ?? 0n);
  const chan = Buffer.alloc(4);
  const mhz = o.channelMhz ?? 2437;
  chan.writeUInt16LE(mhz, 0);
  chan.writeUInt16LE(mhz < 3000 ? 0x00a0 : 0x0140, 2); // 2 GHz + CCK / 5 GHz + OFDM
  const first = [
    { bit: 0, value: tsft },
    { bit: 1, value: u8(0) },
    { bit: 2, value: u8(o.rate ?? 2) },
    { bit: 3, value: chan },
    { bit: 5, value: s8(o.signalDbm) },
    { bit: 14, value: Buffer.alloc(2) },
  ];
  bitmaps.push(first);
  antennas.forEach((dbm, i) => bitmaps.push([{ bit: 5, value: s8(dbm) }, { bit: 11, value: u8(i) }]));
  const words = bitmaps.map((fields, i) => {
    let w = 0;
    for (const f of fields) w |= 1 << f.bit;
    if (i < bitmaps.length - 1) w |= (1 << 29) | (1 << 31);
    return w >>> 0;
  });
  const parts: Buffer[] = [];
  let len = 4 + words.length * 4;
  for (const fields of bitmaps) {
    for (const f of fields) {
      const align = RADIOTAP_FIELDS[f.bit]![0];
      const pad = (align - (len % align)) % align;
      if (pad) parts.push(Buffer.alloc(pad));
      parts.push(f.value);
      len += pad + f.value.length;
    }
  }
  const head = Buffer.alloc(4 + words.length * 4);
  head[0] = 0;
  head[1] = 0;
  head.writeUInt16LE(len, 2);
  words.forEach((w, i) => head.writeUInt32LE(w, 4 + i * 4));
  return Buffer.concat([head, ...parts]);
}

// ---------------------------------------------------------------- 802.11

export function macBytes(mac: string): Buffer {
  const b = Buffer.from(mac.replace(/[:-]/g, ''), 'hex');
  if (b.length !== 6) throw new Error(`bad MAC ${mac}`);
  return b;
}

export const BROADCAST = 'ff:ff:ff:ff:ff:ff';

function mgmtHeader(subtype: number, ra: string, ta: string, bssid: string, seq: number): Buffer {
  const h = Buffer.alloc(24);
  h[0] = (subtype << 4) | (0 << 2);
  h[1] = 0;
  macBytes(ra).copy(h, 4);
  macBytes(ta).copy(h, 10);
  macBytes(bssid).copy(h, 16);
  h.writeUInt16LE((seq & 0xfff) << 4, 22);
  return h;
}

export function element(id: number, body: Buffer): Buffer {
  if (body.length > 255) throw new Error(`element ${id} too long (${body.length})`);
  return Buffer.concat([Buffer.from([id, body.length]), body]);
}

export function ssidElement(ssid: string): Buffer {
  return element(0, Buffer.from(ssid, 'utf8'));
}

/** Vendor-specific element: OUI, vendor type, data. */
export function vendorElement(oui: string, type: number, data: Buffer): Buffer {
  return element(221, Buffer.concat([macBytes(oui + ':00:00:00').subarray(0, 3), Buffer.from([type]), data]));
}

/** ASTM F3411 Wi-Fi beacon element: OUI FA:0B:BC, type 0x0D, message counter, message pack. */
export function odidElement(counter: number, pack: Buffer): Buffer {
  return vendorElement('fa:0b:bc', 0x0d, Buffer.concat([Buffer.from([counter & 0xff]), pack]));
}

export function beacon(o: { ta: string; ssid: string; elements?: Buffer[]; seq?: number; intervalTu?: number }): Buffer {
  const fixed = Buffer.alloc(12);
  fixed.writeUInt16LE(o.intervalTu ?? 100, 8);
  fixed.writeUInt16LE(0x0001, 10); // ESS
  const rates = element(1, Buffer.from([0x82, 0x84, 0x8b, 0x96]));
  return Buffer.concat([mgmtHeader(8, BROADCAST, o.ta, o.ta, o.seq ?? 0), fixed, ssidElement(o.ssid), rates, ...(o.elements ?? [])]);
}

export function probeRequest(o: { ta: string; ssid: string; seq?: number }): Buffer {
  const rates = element(1, Buffer.from([0x02, 0x04, 0x0b, 0x16]));
  return Buffer.concat([mgmtHeader(4, BROADCAST, o.ta, BROADCAST, o.seq ?? 0), ssidElement(o.ssid), rates]);
}

/** A data frame (no DS bits: addr1 = receiver, addr2 = transmitter, addr3 = BSSID) with LLC/SNAP. */
export function dataFrame(o: { ta: string; ra: string; bssid?: string; etherType: number; payload: Buffer; seq?: number }): Buffer {
  const h = Buffer.alloc(24);
  h[0] = 2 << 2; // type data, subtype 0
  macBytes(o.ra).copy(h, 4);
  macBytes(o.ta).copy(h, 10);
  macBytes(o.bssid ?? o.ta).copy(h, 16);
  h.writeUInt16LE(((o.seq ?? 0) & 0xfff) << 4, 22);
  const snap = Buffer.from([0xaa, 0xaa, 0x03, 0, 0, 0, (o.etherType >> 8) & 0xff, o.etherType & 0xff]);
  return Buffer.concat([h, snap, o.payload]);
}

/** ACK (control, subtype 13): receiver address only. */
export function ackFrame(ra: string): Buffer {
  const h = Buffer.alloc(10);
  h[0] = (13 << 4) | (1 << 2);
  macBytes(ra).copy(h, 4);
  return h;
}

/** RTS (control, subtype 11): receiver and transmitter. */
export function rtsFrame(ra: string, ta: string): Buffer {
  const h = Buffer.alloc(16);
  h[0] = (11 << 4) | (1 << 2);
  macBytes(ra).copy(h, 4);
  macBytes(ta).copy(h, 10);
  return h;
}

/** Service ID of "org.opendroneid.remoteid": first 6 bytes of its SHA-256 (Wi-Fi Aware). */
export const ODID_NAN_SERVICE_ID = createHash('sha256').update('org.opendroneid.remoteid').digest().subarray(0, 6);

/**
 * A NAN Service Discovery Frame (public action, vendor specific, OUI 50:6F:9A type 0x13)
 * publishing Remote ID: a Service Descriptor Attribute whose service info is the message
 * counter and the message pack (ASTM F3411 Wi-Fi NAN transport).
 */
export function nanSdf(o: { ta: string; counter: number; pack: Buffer; seq?: number }): Buffer {
  const hdr = mgmtHeader(13, '51:6f:9a:01:00:00', o.ta, '50:6f:9a:01:00:00', o.seq ?? 0);
  const info = Buffer.concat([Buffer.from([o.counter & 0xff]), o.pack]);
  const sdaBody = Buffer.concat([ODID_NAN_SERVICE_ID, Buffer.from([1, 0, 0x10, info.length]), info]);
  const sda = Buffer.alloc(3);
  sda[0] = 0x03;
  sda.writeUInt16LE(sdaBody.length, 1);
  return Buffer.concat([hdr, Buffer.from([0x04, 0x09, 0x50, 0x6f, 0x9a, 0x13]), sda, sdaBody]);
}

/**
 * DJI drone-ID element (OUI 26:37:12), flight telemetry record (subcommand 0x10), laid out as
 * publicly described (Kismet's dot11_ie_221_dji_droneid): vendor type, two unknown bytes,
 * subcommand, version, sequence, state, serial[16], lon, lat (radians * 1e7), altitude,
 * height, velocities, attitude, home lon/lat, product type, uuid.
 */
export function djiDroneIdElement(o: { serial: string; lat: number; lon: number; homeLat: number; homeLon: number; altM: number; heightM: number; seq?: number }): Buffer {
  const rec = Buffer.alloc(75);
  rec[0] = 2; // version
  rec.writeUInt16LE(o.seq ?? 1, 1);
  rec.writeUInt16LE(0x0001 | 0x0004 | 0x0020, 3);
  rec.write(o.serial.slice(0, 16), 5, 'latin1');
  const raw = (deg: number) => Math.round(deg * 174533.0);
  rec.writeInt32LE(raw(o.lon), 21);
  rec.writeInt32LE(raw(o.lat), 25);
  rec.writeInt16LE(Math.round(o.altM), 29);
  rec.writeInt16LE(Math.round(o.heightM), 31);
  rec.writeInt32LE(raw(o.homeLon), 45);
  rec.writeInt32LE(raw(o.homeLat), 49);
  rec[53] = 16; // product type
  return vendorElement('26:37:12', 0x58, Buffer.concat([Buffer.from([0x62, 0x13, 0x10]), rec]));
}

// ---------------------------------------------------------------- BLE

export const ADV_ACCESS_ADDRESS = 0x8e89bed6;

/** AD structure: length, type, data. */
export function adStructure(type: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([data.length + 1, type]), data]);
}

/** Remote ID over BLE 4 legacy advertising: service data 0xFFFA, app code 0x0D, counter, one message. */
export function odidServiceData(counter: number, message: Buffer): Buffer {
  return adStructure(0x16, Buffer.concat([Buffer.from([0xfa, 0xff, 0x0d, counter & 0xff]), message]));
}

/** BLE CRC-24 over the PDU (polynomial x^24+x^10+x^9+x^6+x^4+x^3+x+1, LSB first; advertising init 0x555555). */
export function bleCrc(pdu: Buffer, init = 0x555555): Buffer {
  // The register runs bit-reversed; 0xAAAAAA is 0x555555 reversed, 0x5a6000 the reversed taps.
  let state = 0;
  for (let i = 0; i < 24; i++) if (init & (1 << i)) state |= 1 << (23 - i);
  for (const byte of pdu) {
    let cur = byte;
    for (let j = 0; j < 8; j++) {
      const bit = (state ^ cur) & 1;
      cur >>= 1;
      state >>= 1;
      if (bit) state = (state | (1 << 23)) ^ 0x5a6000;
    }
  }
  return Buffer.from([state & 0xff, (state >> 8) & 0xff, (state >> 16) & 0xff]);
}

/** A BLE link-layer advertising packet (ADV_NONCONN_IND by default): access address, header, AdvA, AdvData, CRC. */
export function bleAdvPacket(o: { advertiser: string; ad: Buffer[]; pduType?: number; randomAddress?: boolean }): Buffer {
  const adv = Buffer.from(macBytes(o.advertiser)).reverse(); // AdvA is little-endian on air
  const data = Buffer.concat(o.ad);
  const payload = Buffer.concat([adv, data]);
  if (payload.length > 37) throw new Error(`legacy advertising payload too long (${payload.length})`);
  const aa = Buffer.alloc(4);
  aa.writeUInt32LE(ADV_ACCESS_ADDRESS);
  const header = Buffer.from([(o.pduType ?? 2) | (o.randomAddress === false ? 0 : 0x40), payload.length]);
  const pdu = Buffer.concat([header, payload]);
  return Buffer.concat([aa, pdu, bleCrc(pdu)]);
}

/** LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR (256): 10-byte pseudo-header, then the LL packet. */
export function blePhdr(ll: Buffer, o: { channel: number; signalDbm: number }): Buffer {
  const h = Buffer.alloc(10);
  h[0] = o.channel;
  h.writeInt8(o.signalDbm, 1);
  h.writeInt8(-100, 2);
  h[3] = 0;
  h.writeUInt32LE(ADV_ACCESS_ADDRESS, 4);
  h.writeUInt16LE(0x0001 | 0x0002 | 0x0010 | 0x0400 | 0x0800, 8); // dewhitened, signal valid, reference AA valid, CRC checked, CRC valid
  return Buffer.concat([h, ll]);
}

/**
 * LINKTYPE_NORDIC_BLE (272), nRF Sniffer protocol version 2: board id, payload length (u16),
 * protocol version, packet counter (u16), packet id, then the packet header (header length 10,
 * flags, channel, RSSI as a positive number, event counter u16, delta time u32), then the LL packet.
 */
export function nordicBle(ll: Buffer, o: { channel: number; rssiDbm: number; counter?: number }): Buffer {
  const h = Buffer.alloc(17);
  h[0] = 0; // board
  h.writeUInt16LE(10 + ll.length, 1);
  h[3] = 2; // protocol version
  h.writeUInt16LE(o.counter ?? 0, 4);
  h[6] = 0x06; // EVENT_PACKET
  h[7] = 10; // packet header length
  h[8] = 0x01; // CRC ok
  h[9] = o.channel;
  h[10] = Math.min(255, Math.abs(Math.round(o.rssiDbm)));
  h.writeUInt16LE(0, 11);
  h.writeUInt32LE(0, 13);
  return Buffer.concat([h, ll]);
}
