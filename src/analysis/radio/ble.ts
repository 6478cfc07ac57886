/**
 * Bluetooth LE advertising, from pcap/pcapng captures in the three BLE link-layer link types:
 * 251 BLUETOOTH_LE_LL (access address, PDU header, payload, CRC), 256 BLUETOOTH_LE_LL_WITH_PHDR
 * (a 10-byte RF pseudo-header first: channel, signal, noise, ..., flags) and 272 NORDIC_BLE
 * (the nRF Sniffer's board/UART header and packet header: flags, channel, RSSI, ...).
 *
 * Advertising PDUs (access address 0x8E89BED6) are decoded to the advertiser address, the AD
 * structures, the local name, and Remote ID service data (16-bit UUID 0xFFFA, application
 * code 0x0D, message counter, then an ODID message or, in extended advertising, a message pack).
 * Written from the Bluetooth Core Specification (Vol 6 Part B, Vol 3 Part C) and ASTM F3411.
 */
import { decodeOdid, type OdidInfo, ODID_BLE_APP_CODE, ODID_BLE_UUID } from './odid.js';
import { readCapture } from '../index.js';

export const LINKTYPE_BLUETOOTH_LE_LL = 251;
export const LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR = 256;
export const LINKTYPE_NORDIC_BLE = 272;
export const ADV_ACCESS_ADDRESS = 0x8e89bed6;

const PDU_NAMES = ['ADV_IND', 'ADV_DIRECT_IND', 'ADV_NONCONN_IND', 'SCAN_REQ', 'SCAN_RSP', 'CONNECT_IND', 'ADV_SCAN_IND', 'ADV_EXT_IND'];

export interface AdStructure {
  type: number;
  /** Hex of the data after the type byte. */
  data: string;
}

export interface BleAdvert {
  packet: number;
  timeMs: number;
  linkType: number;
  pduType: string;
  /** Advertiser address, most significant byte first (as Wireshark shows it). */
  advertiser?: string;
  randomAddress: boolean;
  channel?: number;
  rssiDbm?: number;
  ad: AdStructure[];
  name?: string;
  serviceUuids16: number[];
  remoteId?: OdidInfo & { counter: number };
}

export interface BleCaptureInfo {
  adverts: BleAdvert[];
  /** Link-layer packets that are not advertising (data channel). */
  dataPackets: number;
  /** Records of another link type, or too short. */
  skipped: number;
  /** The file is damaged or truncated from this point. */
  damage?: { offset: number; reason: string };
}

function addr(b: Buffer, o: number): string {
  const parts: string[] = [];
  for (let i = 5; i >= 0; i--) parts.push(b[o + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** Parse AD structures (length, type, data) into the advert. */
function parseAd(b: Buffer, o: number, end: number, a: BleAdvert): void {
  while (o < end) {
    const len = b[o]!;
    if (len === 0) break; // significant part ends
    if (o + 1 + len > end) break;
    const type = b[o + 1]!;
    const data = b.subarray(o + 2, o + 1 + len);
    a.ad.push({ type, data: data.toString('hex') });
    if ((type === 0x08 || type === 0x09) && a.name === undefined) a.name = data.toString('utf8');
    else if (type === 0x02 || type === 0x03) for (let i = 0; i + 1 < data.length; i += 2) a.serviceUuids16.push(data.readUInt16LE(i));
    else if (type === 0x16 && data.length >= 2) {
      const uuid = data.readUInt16LE(0);
      if (uuid === ODID_BLE_UUID && data.length >= 4 && data[2] === ODID_BLE_APP_CODE) {
        const info = decodeOdid(data.subarray(4));
        if (info) a.remoteId = { ...info, counter: data[3]! };
      }
    }
    o += 1 + len;
  }
}

/** Decode a link-layer packet starting at its access address. Undefined when not advertising. */
export function decodeLlAdvert(b: Buffer, off: number, packet: number, timeMs: number, linkType: number): BleAdvert | 'data' | undefined {
  if (off + 6 > b.length) return undefined;
  const aa = b.readUInt32LE(off);
  if (aa !== ADV_ACCESS_ADDRESS) return 'data';
  const h0 = b[off + 4]!;
  const len = b[off + 5]!;
  const p = off + 6;
  const end = Math.min(b.length, p + len);
  const type = h0 & 0x0f;
  const a: BleAdvert = { packet, timeMs, linkType, pduType: PDU_NAMES[type] ?? `PDU_${type}`, randomAddress: Boolean(h0 & 0x40), ad: [], serviceUuids16: [] };
  if (type === 0 || type === 2 || type === 4 || type === 6) {
    if (p + 6 <= end) a.advertiser = addr(b, p);
    parseAd(b, p + 6, end, a);
  } else if (type === 1) {
    if (p + 6 <= end) a.advertiser = addr(b, p);
  } else if (type === 3 || type === 5) {
    // SCAN_REQ / CONNECT_IND: ScanA/InitA then AdvA; the transmitter is the scanner/initiator.
    if (p + 6 <= end) a.advertiser = addr(b, p);
    a.randomAddress = Boolean(h0 & 0x40);
  } else if (type === 7 && p + 1 <= end) {
    // Common extended advertising payload: ext header length + AdvMode, flags, fields, AdvData.
    const hlen = b[p]! & 0x3f;
    if (hlen >= 1 && p + 1 + hlen <= end) {
      const flags = b[p + 1]!;
      let q = p + 2;
      if (flags & 0x01 && q + 6 <= end) {
        a.advertiser = addr(b, q);
        q += 6;
      }
      parseAd(b, p + 1 + hlen, end, a);
    }
  }
  return a;
}

/** Where the LL packet starts in a record of the given link type, and the RF metadata. */
function locate(linkType: number, b: Buffer): { off: number; channel?: number; rssiDbm?: number } | undefined {
  if (linkType === LINKTYPE_BLUETOOTH_LE_LL) return { off: 0 };
  if (linkType === LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR) {
    if (b.length < 10) return undefined;
    const flags = b.readUInt16LE(8);
    return { off: 10, channel: b[0]!, ...(flags & 0x0002 ? { rssiDbm: b.readInt8(1) } : {}) };
  }
  if (linkType === LINKTYPE_NORDIC_BLE) {
    // nRF Sniffer headers differ by protocol version (the packet-header length byte came and
    // went); the packet header ends with channel, RSSI, event counter (2), time (4) right
    // before the access address, so find the advertising access address and read back from it.
    for (let o = 15; o <= 18 && o + 4 <= b.length; o++) {
      if (b.readUInt32LE(o) === ADV_ACCESS_ADDRESS) return { off: o, channel: b[o - 8]!, rssiDbm: -b[o - 7]! };
    }
    return b.length > 17 ? { off: 17 } : undefined;
  }
  return undefined;
}

/** Decode one capture record of a BLE link type: an advert, `data` (not advertising), or undefined. */
export function decodeBleRecord(data: Buffer, linkType: number, packet: number, timeMs: number): BleAdvert | 'data' | undefined {
  const loc = locate(linkType, data);
  if (!loc) return undefined;
  const a = decodeLlAdvert(data, loc.off, packet, timeMs, linkType);
  if (a && a !== 'data') {
    if (loc.channel !== undefined) a.channel = loc.channel;
    if (loc.rssiDbm !== undefined) a.rssiDbm = loc.rssiDbm;
  }
  return a;
}

/** Read a BLE capture (pcap or pcapng, link type 251, 256 or 272), streaming. */
export async function readBleCapture(file: string): Promise<BleCaptureInfo> {
  const out: BleCaptureInfo = { adverts: [], dataPackets: 0, skipped: 0 };
  const info = await readCapture(file, (p) => {
    const a = decodeBleRecord(p.frame(), p.linkType, p.index, p.timeMs);
    if (a === undefined) out.skipped++;
    else if (a === 'data') out.dataPackets++;
    else out.adverts.push(a);
  });
  if (info.damage) out.damage = info.damage;
  return out;
}

/** True when the file's link type is one of the BLE link types (for routing files to decoders). */
export function isBleLinkType(linkType: number): boolean {
  return linkType === LINKTYPE_BLUETOOTH_LE_LL || linkType === LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR || linkType === LINKTYPE_NORDIC_BLE;
}
