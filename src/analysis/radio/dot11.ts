/**
 * 802.11 frames from a monitor-mode capture (LINKTYPE_IEEE802_11_RADIOTAP 127, or bare
 * 802.11 105): radiotap (signal, channel, FCS flag; the present bitmaps walked with each
 * field's alignment), frame type and subtype, transmitter and receiver addresses, SSIDs of
 * beacons and probe requests, NAN service discovery frames, and the drone broadcasts carried
 * in vendor-specific elements: Remote ID (OUI FA:0B:BC type 0x0D, in beacons; in NAN frames as
 * the service info of the Remote ID service) and DJI drone-ID (OUI 26:37:12).
 *
 * Hand-written: per-frame decoding of a few header fields; Wireshark-grade dissectors are not
 * available as a library, and tshark is used in tests as the independent cross-check.
 */
import { decodeOdid, type OdidInfo } from './odid.js';
import { readCapture } from '../index.js';

export const LINKTYPE_IEEE802_11 = 105;
export const LINKTYPE_RADIOTAP = 127;

export interface Radiotap {
  length: number;
  signalDbm?: number;
  channelMhz?: number;
  /** The frame ends in a 4-byte FCS (Flags bit 0x10). */
  fcs: boolean;
}

/** Alignment and size of radiotap fields 0..27 (radiotap.org "Defined fields"). */
const FIELD: ReadonlyArray<readonly [number, number]> = [
  [8, 8], [1, 1], [1, 1], [2, 4], [1, 2], [1, 1], [1, 1], [2, 2], [2, 2], [2, 2], [1, 1], [1, 1], [1, 1], [1, 1],
  [2, 2], [2, 2], [1, 1], [1, 1], [4, 8], [1, 3], [4, 8], [2, 12], [8, 12], [2, 12], [2, 12], [2, 6], [1, 1], [2, 4],
];

/**
 * Walk a radiotap header. Fields are aligned to their natural size from the start of the
 * header; bit 31 chains another present word, bit 29/30 switch to the radiotap/vendor
 * namespace for the next word (vendor namespaces are skipped by their skip_length). The first
 * antenna signal found is the combined one. An unknown field stops the walk (its size is
 * unknown); what was found before it is kept.
 */
export function parseRadiotap(b: Buffer): Radiotap | undefined {
  if (b.length < 8 || b[0] !== 0) return undefined;
  const length = b.readUInt16LE(2);
  if (length < 8 || length > b.length) return undefined;
  const words: number[] = [];
  let p = 4;
  for (;;) {
    if (p + 4 > length) return undefined;
    const w = b.readUInt32LE(p);
    words.push(w);
    p += 4;
    if (!(w & 0x80000000)) break;
  }
  const out: Radiotap = { length, fcs: false };
  let off = p;
  let vendor = false;
  const align = (a: number) => {
    off += (a - (off % a)) % a;
  };
  outer: for (const w of words) {
    if (vendor) {
      // skip this vendor namespace's data: OUI(3), sub-namespace(1), skip_length(2), data
      align(2);
      if (off + 6 > length) break;
      const skip = b.readUInt16LE(off + 4);
      off += 6 + skip;
    } else {
      for (let bit = 0; bit < 29; bit++) {
        if (!(w & (1 << bit))) continue;
        const f = FIELD[bit];
        if (!f) break outer;
        align(f[0]);
        if (off + f[1] > length) break outer;
        if (bit === 1 && b[off]! & 0x10) out.fcs = true;
        else if (bit === 3 && out.channelMhz === undefined) out.channelMhz = b.readUInt16LE(off);
        else if (bit === 5 && out.signalDbm === undefined) out.signalDbm = b.readInt8(off);
        off += f[1];
      }
    }
    if (w & (1 << 29)) vendor = false;
    else if (w & (1 << 30)) vendor = true;
  }
  return out;
}

export interface DjiDroneId {
  vendorType: number;
  subcommand: number;
  version?: number;
  seq?: number;
  stateInfo?: number;
  serial?: string;
  lat?: number;
  lon?: number;
  homeLat?: number;
  homeLon?: number;
  altitude?: number;
  height?: number;
  productType?: number;
  /** Flight purpose record (subcommand 0x11). */
  droneId?: string;
  /** The element's bytes after the OUI, hex, for the evidence. */
  raw: string;
}

export interface WifiFrame {
  /** 1-based frame number in the capture. */
  packet: number;
  timeMs: number;
  type: 'management' | 'control' | 'data' | 'extension';
  subtype: number;
  /** `beacon`, `probe-request`, `probe-response`, `action`, `data`, `qos-data`, `ack`, `rts`, ... */
  name: string;
  /** Transmitter address, where the frame has one. */
  ta?: string;
  /** Receiver address. */
  ra?: string;
  bssid?: string;
  signalDbm?: number;
  channelMhz?: number;
  ssid?: string;
  protected: boolean;
  /** NAN (Wi-Fi Aware) service discovery frame. */
  nan?: boolean;
  remoteId?: OdidInfo & { carrier: 'beacon' | 'nan' | 'action' | 'probe-response' };
  djiDroneId?: DjiDroneId;
  /** Frame body length in bytes (without header and FCS). */
  bodyLength: number;
}

const MGMT_NAMES: Record<number, string> = {
  0: 'assoc-request', 1: 'assoc-response', 2: 'reassoc-request', 3: 'reassoc-response', 4: 'probe-request', 5: 'probe-response',
  6: 'timing-advertisement', 8: 'beacon', 9: 'atim', 10: 'disassoc', 11: 'auth', 12: 'deauth', 13: 'action', 14: 'action-no-ack',
};
const CTRL_NAMES: Record<number, string> = {
  2: 'trigger', 4: 'beamforming-report-poll', 5: 'vht-ndp-announcement', 7: 'control-wrapper', 8: 'block-ack-request', 9: 'block-ack',
  10: 'ps-poll', 11: 'rts', 12: 'cts', 13: 'ack', 14: 'cf-end', 15: 'cf-end-ack',
};

function mac(b: Buffer, o: number): string {
  const h = b.toString('hex', o, o + 6);
  return `${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}:${h.slice(6, 8)}:${h.slice(8, 10)}:${h.slice(10, 12)}`;
}

function decodeDji(body: Buffer): DjiDroneId {
  // body = bytes after the OUI: vendor type, unk, unk, subcommand, record
  const d: DjiDroneId = { vendorType: body[0] ?? 0, subcommand: body[3] ?? 0, raw: body.toString('hex') };
  const r = body.subarray(4);
  const str = (o: number, n: number) => {
    const s = r.subarray(o, Math.min(r.length, o + n));
    const z = s.indexOf(0);
    return (z >= 0 ? s.subarray(0, z) : s).toString('latin1');
  };
  if (d.subcommand === 0x10 && r.length >= 53) {
    d.version = r[0]!;
    d.seq = r.readUInt16LE(1);
    d.stateInfo = r.readUInt16LE(3);
    d.serial = str(5, 16);
    d.lon = r.readInt32LE(21) / 174533.0;
    d.lat = r.readInt32LE(25) / 174533.0;
    d.altitude = r.readInt16LE(29);
    d.height = r.readInt16LE(31);
    d.homeLon = r.readInt32LE(45) / 174533.0;
    d.homeLat = r.readInt32LE(49) / 174533.0;
    if (r.length > 53) d.productType = r[53]!;
  } else if (d.subcommand === 0x11 && r.length >= 16) {
    d.serial = str(0, 16);
    if (r.length >= 35) d.droneId = str(25, 10);
  }
  return d;
}

/** Walk information elements from `o`; sets SSID, Remote ID and DJI drone-ID on the frame. */
function walkElements(b: Buffer, o: number, end: number, f: WifiFrame, carrier: 'beacon' | 'action' | 'probe-response' | undefined): void {
  while (o + 2 <= end) {
    const id = b[o]!;
    const len = b[o + 1]!;
    const body = o + 2;
    if (body + len > end) break;
    if (id === 0 && f.ssid === undefined) f.ssid = b.toString('utf8', body, body + len);
    else if (id === 221 && len >= 4) {
      const oui = b.toString('hex', body, body + 3);
      const vtype = b[body + 3]!;
      if (oui === 'fa0bbc' && vtype === 0x0d && len >= 5 && carrier) {
        // The element's OUI and type say Remote ID: a body not decoded is still a broadcast.
        const info = decodeOdid(b.subarray(body + 5, body + len)) ?? { messages: [] };
        f.remoteId = { ...info, carrier };
      } else if (oui === '263712') {
        f.djiDroneId = decodeDji(b.subarray(body + 3, body + len));
      }
    }
    o = body + len;
  }
}

/** NAN attributes (id u8, length u16 LE): the Service Descriptor Attribute's service info. */
function walkNan(b: Buffer, o: number, end: number, f: WifiFrame): void {
  f.nan = true;
  while (o + 3 <= end) {
    const id = b[o]!;
    const len = b.readUInt16LE(o + 1);
    const body = o + 3;
    if (body + len > end) break;
    if (id === 0x03 && len >= 9) {
      // service id (6), instance id, requestor instance id, service control, [binding bitmap],
      // [matching filter], [service response filter], [service info]
      const ctrl = b[body + 8]!;
      let p = body + 9;
      if (ctrl & 0x40) p += 2; // binding bitmap present
      if (ctrl & 0x04) p += 1 + (b[p] ?? 0); // matching filter
      if (ctrl & 0x08) p += 1 + (b[p] ?? 0); // service response filter
      if (ctrl & 0x10 && p < body + len) {
        const n = b[p]!;
        const info = b.subarray(p + 1, Math.min(body + len, p + 1 + n));
        // Remote ID service info: message counter, then the message pack.
        const dec = info.length > 1 ? decodeOdid(info.subarray(1)) : undefined;
        if (dec) f.remoteId = { ...dec, carrier: 'nan' };
      }
    }
    o = body + len;
  }
}

/** Decode one 802.11 frame (after radiotap). Returns undefined when it is too short to be one. */
export function decodeDot11(b: Buffer, packet: number, timeMs: number, rt?: Radiotap): WifiFrame | undefined {
  let end = b.length;
  if (rt?.fcs) end -= 4;
  if (end < 10) return undefined;
  const fc0 = b[0]!;
  const fc1 = b[1]!;
  const typeNum = (fc0 >> 2) & 3;
  const subtype = fc0 >> 4;
  const type = (['management', 'control', 'data', 'extension'] as const)[typeNum]!;
  const f: WifiFrame = { packet, timeMs, type, subtype, name: '', protected: Boolean(fc1 & 0x40), bodyLength: 0, ra: mac(b, 4) };
  if (rt?.signalDbm !== undefined) f.signalDbm = rt.signalDbm;
  if (rt?.channelMhz !== undefined) f.channelMhz = rt.channelMhz;
  if (type === 'management') {
    f.name = MGMT_NAMES[subtype] ?? `management-${subtype}`;
    if (end < 24) return f;
    f.ta = mac(b, 10);
    f.bssid = mac(b, 16);
    let o = 24;
    if (fc1 & 0x80) o += 4; // +HTC (order bit on management frames)
    f.bodyLength = Math.max(0, end - o);
    if (f.protected) return f;
    if (subtype === 8 || subtype === 5) walkElements(b, o + 12, end, f, subtype === 8 ? 'beacon' : 'probe-response');
    else if (subtype === 4) walkElements(b, o, end, f, undefined);
    else if ((subtype === 13 || subtype === 14) && o + 2 <= end) {
      const category = b[o]!;
      const action = b[o + 1]!;
      if (category === 4 && action === 9 && o + 6 <= end) {
        const oui = b.toString('hex', o + 2, o + 5);
        if (oui === '506f9a' && b[o + 5] === 0x13) walkNan(b, o + 6, end, f);
        else walkElements(b, o + 2, end, f, 'action');
      } else if (category === 127) walkElements(b, o + 1, end, f, 'action');
    }
  } else if (type === 'control') {
    f.name = CTRL_NAMES[subtype] ?? `control-${subtype}`;
    // ACK, CTS carry only the receiver; the others carry a transmitter (or BSSID) second.
    if (subtype !== 12 && subtype !== 13 && subtype !== 7 && end >= 16) f.ta = mac(b, 10);
    if (subtype === 10 || subtype === 14 || subtype === 15) f.bssid = subtype === 10 ? f.ra : f.ta;
  } else if (type === 'data') {
    f.name = subtype & 0x8 ? (subtype & 0x4 ? 'qos-null' : 'qos-data') : subtype & 0x4 ? 'null' : 'data';
    if (end < 24) return f;
    f.ta = mac(b, 10);
    const toDs = fc1 & 1;
    const fromDs = (fc1 >> 1) & 1;
    f.bssid = toDs && !fromDs ? f.ra : !toDs && fromDs ? f.ta : !toDs && !fromDs ? mac(b, 16) : undefined;
    if (f.bssid === undefined) delete f.bssid;
    let o = 24 + (toDs && fromDs ? 6 : 0) + (subtype & 0x8 ? 2 : 0);
    if (subtype & 0x8 && fc1 & 0x80) o += 4;
    f.bodyLength = Math.max(0, end - o);
  } else {
    f.name = `extension-${subtype}`;
  }
  return f;
}

export interface WifiCaptureInfo {
  frames: WifiFrame[];
  /** The file is damaged or truncated from this point (byte offset and why). */
  damage?: { offset: number; reason: string };
  /** Frames that are not 802.11 (other link types) or too short to decode. */
  skipped: number;
}

/** Decode one capture record of link type 127 (radiotap) or 105; undefined when it is neither or too short. */
export function decodeWifiRecord(data: Buffer, linkType: number, packet: number, timeMs: number): WifiFrame | undefined {
  if (linkType === LINKTYPE_RADIOTAP) {
    const rt = parseRadiotap(data);
    if (!rt) return undefined;
    return decodeDot11(data.subarray(rt.length), packet, timeMs, rt);
  }
  if (linkType === LINKTYPE_IEEE802_11) return decodeDot11(data, packet, timeMs);
  return undefined;
}

/** Read a Wi-Fi monitor capture (pcap or pcapng, link type 127 or 105), streaming. */
export async function readWifiCapture(file: string): Promise<WifiCaptureInfo> {
  const frames: WifiFrame[] = [];
  let skipped = 0;
  const info = await readCapture(file, (p) => {
    // The decoded frame holds strings and numbers only: nothing refers to the reused buffer.
    const f = decodeWifiRecord(p.frame(), p.linkType, p.index, p.timeMs);
    if (f) frames.push(f);
    else skipped++;
  });
  return { frames, skipped, ...(info.damage ? { damage: info.damage } : {}) };
}
