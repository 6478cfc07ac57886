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

/** ADI field (Core Vol 6 Part B 2.3.4.4): data id (12 bits), set id (4 bits). */
export interface BleAdi {
  sid: number;
  did: number;
}

/** AuxPtr field (2.3.4.5): channel index, offset in 30 us units, PHY of the next packet. */
export interface BleAuxPtr {
  channel: number;
  offsetUs: number;
  phy: '1M' | '2M' | 'coded';
}

const PHY_CODE = { '1M': 0, '2M': 1, coded: 2 } as const;

/**
 * An extended advertising PDU (type 7, ADV_EXT_IND / AUX_ADV_IND / AUX_CHAIN_IND: which one
 * is told by the channel it is sent on): the common extended advertising payload with the
 * fields given (AdvA, ADI, AuxPtr, TxPower), then AdvData. `coded` puts the Coding Indicator
 * (S=8: 0) after the access address, as an LE Coded PHY packet is written by a sniffer.
 */
export function bleExtPacket(o: { advertiser?: string; adi?: BleAdi; auxPtr?: BleAuxPtr; txPowerDbm?: number; advData?: Buffer; coded?: boolean; randomAddress?: boolean }): Buffer {
  const fields: Buffer[] = [];
  let flags = 0;
  if (o.advertiser) {
    flags |= 0x01;
    fields.push(Buffer.from(macBytes(o.advertiser)).reverse());
  }
  if (o.adi) {
    flags |= 0x08;
    const b = Buffer.alloc(2);
    b.writeUInt16LE(((o.adi.sid & 0x0f) << 12) | (o.adi.did & 0x0fff));
    fields.push(b);
  }
  if (o.auxPtr) {
    flags |= 0x10;
    const units = o.auxPtr.offsetUs > 0x1fff * 30 ? 1 : 0;
    const off = Math.round(o.auxPtr.offsetUs / (units ? 300 : 30)) & 0x1fff;
    const b = Buffer.alloc(3);
    b[0] = (o.auxPtr.channel & 0x3f) | (units << 7); // CA bit 6: 0 (51-500 ppm)
    b[1] = off & 0xff;
    b[2] = (off >> 8) | (PHY_CODE[o.auxPtr.phy] << 5);
    fields.push(b);
  }
  if (o.txPowerDbm !== undefined) {
    flags |= 0x40;
    const b = Buffer.alloc(1);
    b.writeInt8(o.txPowerDbm);
    fields.push(b);
  }
  const extHeader = fields.length ? Buffer.concat([Buffer.from([flags]), ...fields]) : Buffer.alloc(0);
  const payload = Buffer.concat([Buffer.from([extHeader.length & 0x3f]), extHeader, o.advData ?? Buffer.alloc(0)]); // AdvMode 0: non-connectable, non-scannable
  if (payload.length > 255) throw new Error(`extended advertising payload too long (${payload.length})`);
  const aa = Buffer.alloc(4);
  aa.writeUInt32LE(ADV_ACCESS_ADDRESS);
  const pdu = Buffer.concat([Buffer.from([0x07 | (o.advertiser && o.randomAddress !== false ? 0x40 : 0), payload.length]), payload]);
  return Buffer.concat([aa, ...(o.coded ? [Buffer.from([0x00])] : []), pdu, bleCrc(pdu)]);
}

/**
 * The packets of one extended advertising event carrying `advData`: ADV_EXT_IND on a primary
 * channel pointing to AUX_ADV_IND (AdvA, ADI, the first part of the data), then AUX_CHAIN_IND
 * packets with the rest, each at most `maxData` bytes of AdvData. Returns each packet with the
 * channel index it is sent on.
 */
export function bleExtAdvertisingEvent(o: { advertiser: string; adi: BleAdi; advData: Buffer; phy: '1M' | '2M' | 'coded'; primaryChannel?: number; auxChannels?: number[]; maxData?: number }): { channel: number; ll: Buffer }[] {
  const max = o.maxData ?? 200;
  const parts: Buffer[] = [];
  for (let i = 0; i < o.advData.length; i += max) parts.push(o.advData.subarray(i, i + max));
  if (parts.length === 0) parts.push(Buffer.alloc(0));
  const aux = o.auxChannels ?? [11, 23, 5, 30];
  // Long range: primary and secondary both on LE Coded; otherwise the primary is LE 1M.
  const primaryCoded = o.phy === 'coded';
  const coded = o.phy === 'coded';
  const out: { channel: number; ll: Buffer }[] = [];
  out.push({ channel: o.primaryChannel ?? 37, ll: bleExtPacket({ adi: o.adi, auxPtr: { channel: aux[0]!, offsetUs: 3000, phy: o.phy }, coded: primaryCoded }) });
  parts.forEach((d, i) => {
    const next = i + 1 < parts.length ? { channel: aux[(i + 1) % aux.length]!, offsetUs: 600, phy: o.phy } : undefined;
    out.push({
      channel: aux[i % aux.length]!,
      ll: bleExtPacket({ ...(i === 0 ? { advertiser: o.advertiser, txPowerDbm: 8 } : {}), adi: o.adi, ...(next ? { auxPtr: next } : {}), advData: d, coded }),
    });
  });
  return out;
}

/** RF channel number (2402 MHz + 2 MHz * rf) of a channel index. */
export function rfChannelOfIndex(ch: number): number {
  if (ch === 37) return 0;
  if (ch === 38) return 12;
  if (ch === 39) return 39;
  return ch <= 10 ? ch + 1 : ch + 2;
}

/**
 * LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR (256): 10-byte pseudo-header (RF channel, signal, noise,
 * access-address offenses, reference access address, flags with the PHY in bits 14-15), then
 * the LL packet. `channel` is the channel index (37 = RF channel 0).
 */
export function blePhdr(ll: Buffer, o: { channel: number; signalDbm: number; phy?: '1M' | '2M' | 'coded' }): Buffer {
  const h = Buffer.alloc(10);
  h[0] = rfChannelOfIndex(o.channel);
  h.writeInt8(o.signalDbm, 1);
  h.writeInt8(-100, 2);
  h[3] = 0;
  h.writeUInt32LE(ADV_ACCESS_ADDRESS, 4);
  // dewhitened, signal valid, reference AA valid, CRC checked, CRC valid; PHY in bits 14-15
  h.writeUInt16LE(0x0001 | 0x0002 | 0x0010 | 0x0400 | 0x0800 | (PHY_CODE[o.phy ?? '1M'] << 14), 8);
  return Buffer.concat([h, ll]);
}

/**
 * LINKTYPE_NORDIC_BLE (272): the nRF Sniffer for Bluetooth LE header in the protocol version
 * given (default 2), then the LL packet.
 *  - version 0: BE EF, packet id, counter (2), 2 unused, payload length (1);
 *  - version 1: board, header length, payload length (1), version, counter (2), packet id;
 *  - versions 2, 3: board, payload length (2), version, counter (2), packet id;
 * then (versions >= 1) the event packet length (10), and flags, channel, RSSI (positive),
 * event counter (2), time (4). Version 3 writes the PHY into the flags (bits 4-6), the AUX
 * type on secondary channels (bits 1-2), and packet id 0x02 for advertising.
 */
export function nordicBle(ll: Buffer, o: { channel: number; rssiDbm: number; counter?: number; version?: 0 | 1 | 2 | 3; phy?: '1M' | '2M' | 'coded'; auxType?: number; board?: number }): Buffer {
  const version = o.version ?? 2;
  const rssi = Math.min(255, Math.abs(Math.round(o.rssiDbm)));
  let flags = 0x01; // CRC ok
  // PHY in bits 4-6 (protocol version 2 firmware reports it too); AUX type from version 3.
  if (version >= 2) flags |= PHY_CODE[o.phy ?? '1M'] << 4;
  if (version >= 3 && o.channel < 37) flags |= (o.auxType ?? 0) << 1;
  const event = Buffer.alloc(9);
  event[0] = flags;
  event[1] = o.channel;
  event[2] = rssi;
  event.writeUInt16LE(0, 3);
  event.writeUInt32LE(0, 5);
  const id = version >= 3 ? 0x02 : 0x06;
  if (version === 0) {
    const h = Buffer.from([0xbe, 0xef, id, 0, 0, 0, 0, 9 + ll.length]);
    h.writeUInt16LE(o.counter ?? 0, 3);
    return Buffer.concat([h, event, ll]);
  }
  const h = Buffer.alloc(8);
  h[0] = o.board ?? 0;
  if (version === 1) {
    h[1] = 6; // header length (after the board id)
    h[2] = (10 + ll.length) & 0xff;
  } else h.writeUInt16LE(10 + ll.length, 1);
  h[3] = version;
  h.writeUInt16LE(o.counter ?? 0, 4);
  h[6] = id;
  h[7] = 10; // event packet length
  return Buffer.concat([h, event, ll]);
}
