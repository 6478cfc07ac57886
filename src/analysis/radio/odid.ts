/**
 * Open Drone ID (ASTM F3411-22a / ASD-STAN prEN 4709-002) broadcast messages, decoded from
 * the published message layouts: every message is 25 bytes, byte 0 = type << 4 | protocol
 * version; a Message Pack (type 0xF) carries N messages of 25 bytes after a 3-byte header.
 * Little-endian; latitudes and longitudes are int32 degrees * 1e7; altitudes are
 * uint16 (metres + 1000) * 2.
 *
 * Wire carriers handled by the Wi-Fi and BLE decoders: the vendor-specific element
 * (OUI FA:0B:BC, type 0x0D: message counter, then the pack) in beacons and NAN service
 * discovery frames, and BLE service data for UUID 0xFFFA (app code 0x0D, counter, message).
 */

export const ODID_MESSAGE_SIZE = 25;
export const ODID_OUI = 'fa:0b:bc';
export const ODID_VENDOR_TYPE = 0x0d;
export const ODID_BLE_UUID = 0xfffa;
export const ODID_BLE_APP_CODE = 0x0d;

export const ODID_TYPE = {
  basicId: 0x0,
  location: 0x1,
  auth: 0x2,
  selfId: 0x3,
  system: 0x4,
  operatorId: 0x5,
  pack: 0xf,
} as const;

/** What a Remote ID broadcast says about the aircraft and its operator (fields present when sent). */
export interface OdidInfo {
  /** Message types seen, in order (`basic-id`, `location`, ...). */
  messages: string[];
  serial?: string;
  idType?: number;
  uaType?: number;
  status?: number;
  lat?: number;
  lon?: number;
  altGeoM?: number;
  altBaroM?: number;
  heightM?: number;
  speedMps?: number;
  directionDeg?: number;
  operatorLat?: number;
  operatorLon?: number;
  operatorAltM?: number;
  operatorId?: string;
  selfId?: string;
}

const NAMES: Record<number, string> = { 0: 'basic-id', 1: 'location', 2: 'auth', 3: 'self-id', 4: 'system', 5: 'operator-id', 15: 'message-pack' };

function text(b: Buffer, start: number, len: number): string {
  const s = b.subarray(start, Math.min(b.length, start + len));
  const z = s.indexOf(0);
  return (z >= 0 ? s.subarray(0, z) : s).toString('latin1').trim();
}

function alt(v: number): number | undefined {
  return v === 0 ? undefined : v / 2 - 1000;
}

function latlon(v: number): number | undefined {
  return v === 0 ? undefined : v / 1e7;
}

/** Decode one 25-byte message into `into`. Returns false when the bytes are not an ODID message. */
export function decodeOdidMessage(b: Buffer, into: OdidInfo): boolean {
  if (b.length < ODID_MESSAGE_SIZE) return false;
  const type = b[0]! >> 4;
  const name = NAMES[type];
  if (!name || type === ODID_TYPE.pack) return false;
  into.messages.push(name);
  switch (type) {
    case ODID_TYPE.basicId: {
      into.idType = b[1]! >> 4;
      into.uaType = b[1]! & 0x0f;
      const id = text(b, 2, 20);
      // Serial number (1) or CAA registration (2) or UTM id (3): keep the first as `serial`.
      if (into.serial === undefined) into.serial = id;
      break;
    }
    case ODID_TYPE.location: {
      const flags = b[1]!;
      into.status = flags >> 4;
      const ew = (flags >> 1) & 1;
      const mult = flags & 1;
      if (b[2]! <= 179) into.directionDeg = b[2]! + (ew ? 180 : 0);
      if (b[3]! !== 255) into.speedMps = mult ? b[3]! * 0.75 + 255 * 0.25 : b[3]! * 0.25;
      const la = latlon(b.readInt32LE(5));
      const lo = latlon(b.readInt32LE(9));
      if (la !== undefined) into.lat = la;
      if (lo !== undefined) into.lon = lo;
      const baro = alt(b.readUInt16LE(13));
      const geo = alt(b.readUInt16LE(15));
      const h = alt(b.readUInt16LE(17));
      if (baro !== undefined) into.altBaroM = baro;
      if (geo !== undefined) into.altGeoM = geo;
      if (h !== undefined) into.heightM = h;
      break;
    }
    case ODID_TYPE.selfId:
      into.selfId = text(b, 2, 23);
      break;
    case ODID_TYPE.system: {
      const la = latlon(b.readInt32LE(2));
      const lo = latlon(b.readInt32LE(6));
      if (la !== undefined) into.operatorLat = la;
      if (lo !== undefined) into.operatorLon = lo;
      const oa = alt(b.readUInt16LE(18));
      if (oa !== undefined) into.operatorAltM = oa;
      break;
    }
    case ODID_TYPE.operatorId:
      into.operatorId = text(b, 2, 20);
      break;
    default:
      break;
  }
  return true;
}

/**
 * Decode a single message or a message pack. Returns undefined when the bytes are neither.
 */
export function decodeOdid(b: Buffer): OdidInfo | undefined {
  if (b.length < 1) return undefined;
  const info: OdidInfo = { messages: [] };
  if (b[0]! >> 4 === ODID_TYPE.pack) {
    if (b.length < 3) return undefined;
    const size = b[1]!;
    const n = b[2]!;
    if (size !== ODID_MESSAGE_SIZE || n < 1 || n > 9 || b.length < 3 + n * size) return undefined;
    for (let i = 0; i < n; i++) decodeOdidMessage(b.subarray(3 + i * size, 3 + (i + 1) * size), info);
    return info.messages.length ? info : undefined;
  }
  return decodeOdidMessage(b, info) ? info : undefined;
}

/** The decoded fields as a flat record for a finding's `fields` (numbers rounded sensibly). */
export function odidFields(info: OdidInfo): Record<string, string | number> {
  const out: Record<string, string | number> = { messages: info.messages.join(',') };
  for (const [k, v] of Object.entries(info)) {
    if (k === 'messages' || v === undefined) continue;
    out[k] = typeof v === 'number' ? Math.round(v * 1e7) / 1e7 : (v as string);
  }
  return out;
}
