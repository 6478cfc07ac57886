/**
 * Bluetooth LE advertising, from pcap/pcapng captures in the three BLE link-layer link types:
 *  - 251 BLUETOOTH_LE_LL: the LL packet (access address, PDU header, payload, CRC);
 *  - 256 BLUETOOTH_LE_LL_WITH_PHDR: a 10-byte RF pseudo-header first (RF channel, signal,
 *    noise, access-address offenses, reference access address, flags; flags bits 14-15 give
 *    the PHY: 0 1M, 1 2M, 2 Coded);
 *  - 272 NORDIC_BLE: the nRF Sniffer for Bluetooth LE header. Its protocol version decides the
 *    layout: version 0 starts with the marker BE EF (no board id), packet id, counter (2),
 *    2 unused bytes, payload length; version 1 has board id, header length, payload length,
 *    version, counter (2), packet id; versions 2 and 3 have board id, payload length (2),
 *    version, counter (2), packet id. Then (version >= 1) the event packet length, and in every
 *    version flags, channel, RSSI (sign dropped), event counter (2), time (4). The flags carry the
 *    PHY in bits 4-6 in every version (0, LE 1M, from firmware before 2M and Coded), and in
 *    version 3 on a secondary channel the AUX PDU type (bits 1-2).
 * On LE Coded PHY one Coding Indicator byte follows the access address.
 *
 * Advertising PDUs (access address 0x8E89BED6) are decoded to the advertiser address, the AD
 * structures, the local name and Remote ID service data (16-bit UUID 0xFFFA, application code
 * 0x0D, message counter, then one ODID message on BLE 4 or a message pack on BLE 5).
 * Extended advertising (PDU type 7) is split by channel and content into ADV_EXT_IND (primary
 * channel: ADI and AuxPtr only), AUX_ADV_IND (secondary channel, carries AdvA) and
 * AUX_CHAIN_IND (more AdvData of the same ADI); `BleAdvertAssembler` joins a chain's AdvData
 * before the AD structures are read, so a message pack split over several packets is whole.
 *
 * Written from the Bluetooth Core Specification (Vol 6 Part B 2.3: PDU formats, 2.3.4: the
 * common extended advertising payload; Vol 3 Part C 11: AD structures), the tcpdump.org link
 * type descriptions and the nRF Sniffer header description, and ASTM F3411-22a.
 */
import { decodeOdidInto, type OdidInfo, ODID_BLE_APP_CODE, ODID_BLE_UUID } from './odid.js';
import { readCapture } from '../index.js';

export const LINKTYPE_BLUETOOTH_LE_LL = 251;
export const LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR = 256;
export const LINKTYPE_NORDIC_BLE = 272;
export const ADV_ACCESS_ADDRESS = 0x8e89bed6;

const PDU_NAMES = ['ADV_IND', 'ADV_DIRECT_IND', 'ADV_NONCONN_IND', 'SCAN_REQ', 'SCAN_RSP', 'CONNECT_IND', 'ADV_SCAN_IND', 'ADV_EXT_IND'];
const AUX_NAMES = ['AUX_ADV_IND', 'AUX_CHAIN_IND', 'AUX_SYNC_IND', 'AUX_SCAN_RSP'];
export const BLE_PHYS = ['1M', '2M', 'coded'] as const;
export type BlePhy = (typeof BLE_PHYS)[number];

export interface AdStructure {
  type: number;
  /** Hex of the data after the type byte. */
  data: string;
}

/** Extended advertising header fields (Core Vol 6 Part B 2.3.4). */
export interface BleExtHeader {
  /** Advertising Data Info: set id and data id. */
  sid?: number;
  did?: number;
  /** Where the next packet of the chain is: channel index, PHY, offset in microseconds. */
  auxPtr?: { channel: number; phy: BlePhy | 'reserved'; offsetUs: number };
  txPowerDbm?: number;
}

export interface BleAdvert {
  /** Packet that carries the advertiser address and the start of its data (1-based). */
  packet: number;
  /** Every packet of an extended advertising chain (ADV_EXT_IND, AUX_ADV_IND, AUX_CHAIN_IND...). */
  packets?: number[];
  timeMs: number;
  linkType: number;
  /** `ADV_IND` ... `ADV_EXT_IND`, `AUX_ADV_IND`, `AUX_CHAIN_IND`, `AUX_SCAN_RSP`, `AUX_SYNC_IND`. */
  pduType: string;
  /** Advertiser address, most significant byte first (as Wireshark shows it). */
  advertiser?: string;
  randomAddress: boolean;
  /** Channel index 0..39 (37-39 primary advertising channels). */
  channel?: number;
  rssiDbm?: number;
  phy?: BlePhy;
  ext?: BleExtHeader;
  ad: AdStructure[];
  name?: string;
  serviceUuids16: number[];
  remoteId?: OdidInfo & { counter: number };
  /**
   * A chain whose last packet was not seen (the capture ended or lost it), or an ADV_EXT_IND
   * whose AUX_ADV_IND was never captured (`auxMissing`): its AdvData, which may be a Remote
   * ID message pack, was not seen.
   */
  incomplete?: boolean;
  auxMissing?: boolean;
  /** AdvData bytes of this packet (extended advertising, before a chain is joined). */
  advData?: Buffer;
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
export function parseAd(b: Buffer, o: number, end: number, a: BleAdvert): void {
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
      if (uuid === ODID_BLE_UUID && data.length >= 3 && data[2] === ODID_BLE_APP_CODE) {
        // UUID and application code say Remote ID: a body not decoded is still a broadcast.
        const info: OdidInfo = a.remoteId ?? { messages: [] };
        decodeOdidInto(data.subarray(4), info);
        a.remoteId = Object.assign(info, { counter: data[3] ?? 0 });
      }
    }
    o += 1 + len;
  }
}

/** Channel index of an RF channel number (2402 MHz + 2 MHz * rf). */
export function channelIndexOfRf(rf: number): number {
  if (rf === 0) return 37;
  if (rf === 12) return 38;
  if (rf === 39) return 39;
  return rf < 12 ? rf - 1 : rf - 2;
}

interface Located {
  off: number;
  channel?: number;
  rssiDbm?: number;
  phy?: BlePhy;
  /** AUX PDU type from the nRF Sniffer (version 3, secondary channel). */
  auxType?: number;
  /** The record says this is not an advertising-channel PDU (nRF version 3 packet id). */
  data?: boolean;
}

/** Where the LL packet starts in a record of the given link type, and the RF metadata. */
function locate(linkType: number, b: Buffer): Located | undefined {
  if (linkType === LINKTYPE_BLUETOOTH_LE_LL) return b.length >= 6 ? { off: 0 } : undefined;
  if (linkType === LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR) {
    if (b.length < 10 + 6) return undefined;
    const flags = b.readUInt16LE(8);
    const phy = BLE_PHYS[(flags >> 14) & 3];
    const out: Located = { off: 10, channel: channelIndexOfRf(b[0]!) };
    if (flags & 0x0002) out.rssiDbm = b.readInt8(1);
    if (phy) out.phy = phy;
    return out;
  }
  if (linkType === LINKTYPE_NORDIC_BLE) {
    let p: number; // offset of the event packet's flags byte
    let version: number;
    if (b.length >= 2 && b[0] === 0xbe && b[1] === 0xef) {
      version = 0;
      p = 8; // marker (2), packet id, counter (2), unused (2), payload length
    } else {
      if (b.length < 8) return undefined;
      version = b[3]!;
      if (version < 1 || version > 3) return undefined; // a layout we do not know: not guessed
      const eventLen = b[7]!; // event packet length: itself, flags ... time (10), in versions 1-3
      if (eventLen < 10) return undefined;
      p = 8;
      const off = 7 + eventLen;
      if (b.length < off + 6) return undefined;
      return nordicEvent(b, p, off, version);
    }
    if (b.length < 17 + 6) return undefined;
    return nordicEvent(b, p, 17, version);
  }
  return undefined;
}

function nordicEvent(b: Buffer, p: number, off: number, version: number): Located {
  const flags = b[p]!;
  const channel = b[p + 1]!;
  // The PHY is read from flags bits 4-6 in every version, as Wireshark's nordic_ble dissector
  // does: sniffer firmware of protocol version 2 already reports LE Coded and 2M there, and
  // older firmware leaves the bits 0 (LE 1M). Reading 1M for a Coded packet would misplace
  // every field after the access address (the Coding Indicator) and hide the advertisement.
  const out: Located = { off, channel, rssiDbm: -b[p + 2]!, phy: BLE_PHYS[(flags >> 4) & 7] ?? '1M' };
  if (version >= 3) {
    const id = b[6]!; // packet id: 0x02 advertising, 0x06 data
    if (id === 0x06) out.data = true;
    if (channel < 37) out.auxType = (flags >> 1) & 3;
  }
  return out;
}

/** Parse the common extended advertising payload; returns the offset of AdvData. */
function parseExtHeader(b: Buffer, p: number, end: number, a: BleAdvert): number {
  const hlen = b[p]! & 0x3f;
  const dataStart = p + 1 + hlen;
  if (hlen === 0 || dataStart > end) return Math.min(dataStart, end);
  const flags = b[p + 1]!;
  let q = p + 2;
  const ext: BleExtHeader = {};
  const take = (n: number): number => {
    const at = q;
    q += n;
    return q <= dataStart ? at : -1;
  };
  if (flags & 0x01) {
    const at = take(6);
    if (at >= 0) a.advertiser = addr(b, at);
  }
  if (flags & 0x02) take(6); // TargetA
  if (flags & 0x04) take(1); // CTEInfo
  if (flags & 0x08) {
    const at = take(2);
    if (at >= 0) {
      const v = b.readUInt16LE(at);
      ext.did = v & 0x0fff;
      ext.sid = v >> 12;
    }
  }
  if (flags & 0x10) {
    const at = take(3);
    if (at >= 0) {
      const ch = b[at]! & 0x3f;
      const units = (b[at]! >> 7) & 1;
      const off = b.readUInt16LE(at + 1) & 0x1fff;
      const phy = b[at + 2]! >> 5;
      ext.auxPtr = { channel: ch, phy: BLE_PHYS[phy] ?? 'reserved', offsetUs: off * (units ? 300 : 30) };
    }
  }
  if (flags & 0x20) take(18); // SyncInfo
  if (flags & 0x40) {
    const at = take(1);
    if (at >= 0) ext.txPowerDbm = b.readInt8(at);
  }
  a.ext = ext;
  return dataStart;
}

/**
 * Decode a link-layer packet starting at its access address (with the Coding Indicator
 * after it on LE Coded PHY). Undefined when too short; `data` when not advertising.
 */
export function decodeLlAdvert(b: Buffer, off: number, packet: number, timeMs: number, linkType: number, loc: Omit<Located, 'off'> = {}): BleAdvert | 'data' | undefined {
  if (off + 6 > b.length) return undefined;
  const aa = b.readUInt32LE(off);
  if (aa !== ADV_ACCESS_ADDRESS || loc.data) return 'data';
  const h = off + 4 + (loc.phy === 'coded' ? 1 : 0);
  if (h + 2 > b.length) return undefined;
  const h0 = b[h]!;
  const len = b[h + 1]!;
  const p = h + 2;
  // The CRC (3 bytes) follows the payload; a record cut short keeps what it has.
  const end = Math.min(b.length, p + len);
  const type = h0 & 0x0f;
  const a: BleAdvert = { packet, timeMs, linkType, pduType: PDU_NAMES[type] ?? `PDU_${type}`, randomAddress: Boolean(h0 & 0x40), ad: [], serviceUuids16: [] };
  if (loc.channel !== undefined) a.channel = loc.channel;
  if (loc.rssiDbm !== undefined) a.rssiDbm = loc.rssiDbm;
  if (loc.phy !== undefined) a.phy = loc.phy;
  if (type === 0 || type === 2 || type === 4 || type === 6) {
    if (p + 6 <= end) a.advertiser = addr(b, p);
    parseAd(b, p + 6, end, a);
  } else if (type === 1) {
    if (p + 6 <= end) a.advertiser = addr(b, p);
  } else if (type === 3 || type === 5) {
    // SCAN_REQ / CONNECT_IND: ScanA/InitA then AdvA; the transmitter is the scanner/initiator.
    if (p + 6 <= end) a.advertiser = addr(b, p);
  } else if (type === 7 && p < end) {
    const data = parseExtHeader(b, p, end, a);
    a.advData = Buffer.from(b.subarray(data, end));
    const primary = loc.channel !== undefined ? loc.channel >= 37 : undefined;
    if (primary === true) a.pduType = 'ADV_EXT_IND';
    else if (loc.auxType !== undefined) a.pduType = AUX_NAMES[loc.auxType]!;
    else if (primary === false) a.pduType = a.advertiser ? 'AUX_ADV_IND' : 'AUX_CHAIN_IND';
    else {
      // No channel in the record (link type 251): an ADV_EXT_IND points on and carries no data.
      a.pduType = a.advertiser ? 'AUX_ADV_IND' : a.ext?.auxPtr && a.advData.length === 0 ? 'ADV_EXT_IND' : 'AUX_CHAIN_IND';
    }
  }
  return a;
}

/** Decode one capture record of a BLE link type: an advert (one packet), `data` (not advertising), or undefined. */
export function decodeBleRecord(data: Buffer, linkType: number, packet: number, timeMs: number): BleAdvert | 'data' | undefined {
  const loc = locate(linkType, data);
  if (!loc) return undefined;
  return decodeLlAdvert(data, loc.off, packet, timeMs, linkType, loc);
}

interface Chain {
  head: BleAdvert;
  data: Buffer[];
  /** The last packet pointed on (it had an AuxPtr). */
  open: boolean;
}

/**
 * Joins extended advertising chains: ADV_EXT_IND -> AUX_ADV_IND -> AUX_CHAIN_IND ...
 * Packets of one chain share the ADI (set id, data id). A chain is complete at the first
 * packet without an AuxPtr; a chain still open at the end is given out marked `incomplete`.
 * Legacy advertising passes straight through. Output is in the order chains complete.
 */
export class BleAdvertAssembler {
  private readonly chains = new Map<string, Chain>();
  /** ADV_EXT_IND packets waiting for their AUX_ADV_IND, by ADI. */
  private readonly pointers = new Map<string, BleAdvert[]>();

  push(a: BleAdvert, out: BleAdvert[]): void {
    if (a.advData === undefined) {
      out.push(a);
      return;
    }
    const key = `${a.ext?.sid ?? '-'}/${a.ext?.did ?? '-'}`;
    if (a.pduType === 'ADV_EXT_IND') {
      if (a.ext?.auxPtr) {
        const l = this.pointers.get(key) ?? [];
        l.push(a);
        this.pointers.set(key, l);
      } else this.finish({ head: a, data: [a.advData], open: false }, out);
      return;
    }
    const continues = a.pduType === 'AUX_CHAIN_IND' || (a.pduType === 'AUX_SCAN_RSP' && !a.advertiser);
    const chain = continues ? this.chains.get(key) : undefined;
    if (chain && chain.open) {
      chain.head.packets!.push(a.packet);
      chain.data.push(a.advData);
      chain.open = Boolean(a.ext?.auxPtr);
      if (!chain.open) {
        this.chains.delete(key);
        this.finish(chain, out);
      }
      return;
    }
    // A new chain: an AUX_ADV_IND (or a continuation whose start was not seen).
    const old = this.chains.get(key);
    if (old) {
      this.chains.delete(key);
      old.head.incomplete = true;
      this.finish(old, out);
    }
    const pointed = this.pointers.get(key);
    this.pointers.delete(key);
    a.packets = [...(pointed ?? []).map((x) => x.packet), a.packet];
    // The advert's time is its first packet's (the ADV_EXT_IND that pointed to it).
    if (pointed?.length) a.timeMs = pointed[0]!.timeMs;
    if (continues) a.incomplete = true;
    const c: Chain = { head: a, data: [a.advData], open: Boolean(a.ext?.auxPtr) };
    if (c.open) this.chains.set(key, c);
    else this.finish(c, out);
  }

  /**
   * Chains still open at the end of the capture, and ADV_EXT_INDs whose AUX_ADV_IND never came
   * (one advert per ADI, marked `auxMissing`, listing the pointing packets): given out, not
   * dropped, so a reader can say that an extended advertisement's data was not seen.
   */
  flush(out: BleAdvert[]): void {
    for (const c of this.chains.values()) {
      c.head.incomplete = true;
      this.finish(c, out);
    }
    this.chains.clear();
    for (const l of this.pointers.values()) {
      const a = l[0]!;
      a.incomplete = true;
      a.auxMissing = true;
      a.advData = Buffer.alloc(0);
      a.packets = l.map((x) => x.packet);
      this.finish({ head: a, data: [a.advData], open: false }, out);
    }
    this.pointers.clear();
  }

  private finish(c: Chain, out: BleAdvert[]): void {
    const a = c.head;
    const data = c.data.length === 1 ? c.data[0]! : Buffer.concat(c.data);
    parseAd(data, 0, data.length, a);
    delete a.advData;
    if (a.packets && a.packets.length <= 1) delete a.packets;
    out.push(a);
  }
}

/** Read a BLE capture (pcap or pcapng, link type 251, 256 or 272), streaming; chains joined. */
export async function readBleCapture(file: string): Promise<BleCaptureInfo> {
  const out: BleCaptureInfo = { adverts: [], dataPackets: 0, skipped: 0 };
  const asm = new BleAdvertAssembler();
  const info = await readCapture(file, (p) => {
    const a = decodeBleRecord(p.frame(), p.linkType, p.index, p.timeMs);
    if (a === undefined) out.skipped++;
    else if (a === 'data') out.dataPackets++;
    else asm.push(a, out.adverts);
  });
  asm.flush(out.adverts);
  if (info.damage) out.damage = info.damage;
  return out;
}

/** True when the file's link type is one of the BLE link types (for routing files to decoders). */
export function isBleLinkType(linkType: number): boolean {
  return linkType === LINKTYPE_BLUETOOTH_LE_LL || linkType === LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR || linkType === LINKTYPE_NORDIC_BLE;
}
