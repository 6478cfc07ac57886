/**
 * Open Drone ID (ASTM F3411-22a / ASD-STAN prEN 4709-002) broadcast messages, decoded from
 * the published message layouts. Every message is 25 bytes; byte 0 is message type << 4 |
 * protocol version. A Message Pack (type 0xF) carries N messages of 25 bytes after a 3-byte
 * header (type, single message size, count). Little-endian throughout; latitudes and
 * longitudes are int32 degrees * 1e7 (0 = unknown); altitudes are uint16 (metres + 1000) * 2
 * (0 = unknown); times in Location are tenths of a second since the full hour, in
 * Authentication and System seconds since 2019-01-01T00:00:00Z.
 *
 * Message layouts (byte offsets inside the 25 bytes):
 *  0 Basic ID      1: ID type << 4 | UA type; 2..21: UAS ID (20 chars)
 *  1 Location      1: status << 4 | height type << 2 | E/W direction << 1 | speed multiplier;
 *                  2: direction (+180 with the E/W bit; 361 unknown); 3: horizontal speed (* 0.25,
 *                  or * 0.75 + 63.75 with the multiplier; 255 with it unknown); 4: vertical
 *                  speed (int8 * 0.5 m/s; 63 m/s unknown);
 *                  5: latitude; 9: longitude; 13: pressure altitude; 15: geodetic altitude;
 *                  17: height; 19: vertical << 4 | horizontal accuracy; 20: baro << 4 | speed
 *                  accuracy; 21: timestamp (1/10 s since the hour); 23: timestamp accuracy
 *  2 Auth          1: auth type << 4 | page number; page 0: 2 last page index, 3 length,
 *                  4 timestamp (u32), 8..24 data (17 bytes); page 1..15: 2..24 data (23 bytes)
 *  3 Self-ID       1: description type; 2..24: description (23 chars)
 *  4 System        1: classification type << 2 | operator location type; 2: operator
 *                  latitude; 6: operator longitude; 10: area count; 12: area radius (* 10 m);
 *                  13: area ceiling; 15: area floor; 17: EU category << 4 | EU class;
 *                  18: operator geodetic altitude; 20: timestamp (u32)
 *  5 Operator ID   1: operator ID type; 2..21: operator ID (20 chars)
 *
 * Wire carriers handled by the Wi-Fi and BLE decoders: the vendor-specific element
 * (OUI FA:0B:BC, type 0x0D: message counter, then the pack) in beacons, the NAN service
 * discovery frame's service info, and BLE service data for UUID 0xFFFA (application code 0x0D,
 * counter, then one message on BLE 4 or a message pack on BLE 5).
 */

export const ODID_MESSAGE_SIZE = 25;
export const ODID_OUI = 'fa:0b:bc';
export const ODID_VENDOR_TYPE = 0x0d;
export const ODID_BLE_UUID = 0xfffa;
export const ODID_BLE_APP_CODE = 0x0d;
/** ASTM F3411 epoch of Authentication and System timestamps: 2019-01-01T00:00:00Z. */
export const ODID_EPOCH_MS = Date.UTC(2019, 0, 1);

export const ODID_TYPE = {
  basicId: 0x0,
  location: 0x1,
  auth: 0x2,
  selfId: 0x3,
  system: 0x4,
  operatorId: 0x5,
  pack: 0xf,
} as const;

export const ODID_ID_TYPES = ['none', 'serial-number', 'caa-registration', 'utm-uuid', 'specific-session-id'];
export const ODID_UA_TYPES = [
  'none', 'aeroplane', 'helicopter-or-multirotor', 'gyroplane', 'hybrid-lift', 'ornithopter', 'glider', 'kite',
  'free-balloon', 'captive-balloon', 'airship', 'free-fall-parachute', 'rocket', 'tethered-powered-aircraft', 'ground-obstacle', 'other',
];
export const ODID_STATUS = ['undeclared', 'ground', 'airborne', 'emergency', 'remote-id-system-failure'];
export const ODID_AUTH_TYPES = ['none', 'uas-id-signature', 'operator-id-signature', 'message-set-signature', 'network-remote-id', 'specific-method'];
export const ODID_OPERATOR_LOCATION_TYPES = ['takeoff', 'live-gnss', 'fixed'];

/** One Basic ID message: a drone may send several (serial number and a session ID, say). */
export interface OdidBasicId {
  idType: number;
  uaType: number;
  id: string;
}

/** Authentication pages of one authentication type, joined in page order. */
export interface OdidAuth {
  authType: number;
  /** Page numbers received. */
  pages: number[];
  lastPageIndex?: number;
  /** Length in bytes of the authentication data (page 0). */
  length?: number;
  /** Page 0's timestamp, ISO 8601 UTC. */
  time?: string;
  /** The authentication data of the pages received, hex, cut to `length` when page 0 says it. */
  data: string;
  /** Each page's data (hex) by page number. */
  pageData: Record<number, string>;
}

/** What a Remote ID broadcast says about the aircraft and its operator (fields present when sent). */
export interface OdidInfo {
  /** Message types seen, in order, without repeats (`basic-id`, `location`, ...). */
  messages: string[];
  basicIds?: OdidBasicId[];
  /** UAS ID of the first Basic ID with ID type 1 (serial number), else of the first Basic ID. */
  serial?: string;
  idType?: number;
  uaType?: number;
  /** CAA registration ID (ID type 2), UTM UUID (3), specific session ID (4). */
  registrationId?: string;
  utmId?: string;
  sessionId?: string;
  status?: number;
  lat?: number;
  lon?: number;
  altGeoM?: number;
  altBaroM?: number;
  heightM?: number;
  /** 0: height above take-off, 1: above ground level. */
  heightType?: number;
  speedMps?: number;
  verticalSpeedMps?: number;
  directionDeg?: number;
  horizontalAccuracy?: number;
  verticalAccuracy?: number;
  /** Location timestamp: seconds since the full hour (tenths). */
  locationSecondsInHour?: number;
  auth?: OdidAuth[];
  selfIdType?: number;
  selfId?: string;
  operatorLocationType?: number;
  classificationType?: number;
  operatorLat?: number;
  operatorLon?: number;
  operatorAltM?: number;
  areaCount?: number;
  areaRadiusM?: number;
  areaCeilingM?: number;
  areaFloorM?: number;
  categoryEu?: number;
  classEu?: number;
  /** System message timestamp, ISO 8601 UTC. */
  systemTime?: string;
  operatorIdType?: number;
  operatorId?: string;
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

function odidTime(sec: number): string | undefined {
  return sec === 0 ? undefined : new Date(ODID_EPOCH_MS + sec * 1000).toISOString();
}

/** Rebuild `data` and `pages` from the pages held (page 0 holds 17 bytes of data, the others 23). */
function rebuildAuth(a: OdidAuth): void {
  const pages = Object.keys(a.pageData).map(Number).sort((x, y) => x - y);
  a.pages = pages;
  let data = pages.map((p) => a.pageData[p]).join('');
  // Cut to the declared length only when every page from 0 on is present.
  if (a.length !== undefined && pages.every((p, i) => p === i)) data = data.slice(0, a.length * 2);
  a.data = data;
}

function addAuth(b: Buffer, into: OdidInfo): void {
  const authType = b[1]! >> 4;
  const page = b[1]! & 0x0f;
  const list = (into.auth ??= []);
  let a = list.find((x) => x.authType === authType);
  if (!a) {
    a = { authType, pages: [], data: '', pageData: {} };
    list.push(a);
  }
  if (page === 0) {
    a.lastPageIndex = b[2]!;
    a.length = b[3]!;
    const t = odidTime(b.readUInt32LE(4));
    if (t) a.time = t;
  }
  a.pageData[page] = b.toString('hex', page === 0 ? 8 : 2, 25);
  rebuildAuth(a);
}

/** Decode one 25-byte message into `into`. Returns false when the bytes are not an ODID message. */
export function decodeOdidMessage(b: Buffer, into: OdidInfo): boolean {
  if (b.length < ODID_MESSAGE_SIZE) return false;
  const type = b[0]! >> 4;
  const name = NAMES[type];
  if (!name || type === ODID_TYPE.pack) return false;
  if (!into.messages.includes(name)) into.messages.push(name);
  switch (type) {
    case ODID_TYPE.basicId: {
      const idType = b[1]! >> 4;
      const uaType = b[1]! & 0x0f;
      // UTM UUIDs (3) and specific session IDs (4) are binary: kept as hex; the others are text.
      const id = idType === 3 ? b.toString('hex', 2, 18) : idType === 4 ? b.toString('hex', 2, 22).replace(/(00)+$/, '') : text(b, 2, 20);
      const list = (into.basicIds ??= []);
      if (!list.some((x) => x.idType === idType && x.id === id)) list.push({ idType, uaType, id });
      if (idType === 2) into.registrationId ??= id;
      else if (idType === 3) into.utmId ??= id;
      else if (idType === 4) into.sessionId ??= id;
      // `serial` is the serial number when one is sent, else the first ID of any type.
      if (idType === 1 && (into.idType !== 1 || into.serial === undefined)) {
        into.serial = id;
        into.idType = idType;
        into.uaType = uaType;
      } else if (into.serial === undefined) {
        into.serial = id;
        into.idType = idType;
        into.uaType = uaType;
      }
      break;
    }
    case ODID_TYPE.location: {
      const flags = b[1]!;
      into.status = flags >> 4;
      into.heightType = (flags >> 2) & 1;
      const ew = (flags >> 1) & 1;
      const mult = flags & 1;
      const dir = b[2]! + (ew ? 180 : 0);
      if (dir < 360) into.directionDeg = dir;
      // 255 with the multiplier set is "unknown" (255 m/s); without it, 255 is 63.75 m/s.
      if (!(mult && b[3] === 255)) into.speedMps = mult ? b[3]! * 0.75 + 255 * 0.25 : b[3]! * 0.25;
      const vs = b.readInt8(4);
      if (vs !== 126) into.verticalSpeedMps = vs * 0.5; // 126 * 0.5 = 63 m/s: unknown
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
      into.verticalAccuracy = b[19]! >> 4;
      into.horizontalAccuracy = b[19]! & 0x0f;
      const ts = b.readUInt16LE(21);
      if (ts !== 0xffff && ts <= 36000) into.locationSecondsInHour = ts / 10;
      break;
    }
    case ODID_TYPE.auth:
      addAuth(b, into);
      break;
    case ODID_TYPE.selfId:
      into.selfIdType = b[1]!;
      into.selfId = text(b, 2, 23);
      break;
    case ODID_TYPE.system: {
      into.operatorLocationType = b[1]! & 0x03;
      into.classificationType = (b[1]! >> 2) & 0x07;
      const la = latlon(b.readInt32LE(2));
      const lo = latlon(b.readInt32LE(6));
      if (la !== undefined) into.operatorLat = la;
      if (lo !== undefined) into.operatorLon = lo;
      into.areaCount = b.readUInt16LE(10);
      into.areaRadiusM = b[12]! * 10;
      const ceil = alt(b.readUInt16LE(13));
      const floor = alt(b.readUInt16LE(15));
      if (ceil !== undefined) into.areaCeilingM = ceil;
      if (floor !== undefined) into.areaFloorM = floor;
      if (into.classificationType === 1) {
        into.categoryEu = b[17]! >> 4;
        into.classEu = b[17]! & 0x0f;
      }
      const oa = alt(b.readUInt16LE(18));
      if (oa !== undefined) into.operatorAltM = oa;
      const t = odidTime(b.readUInt32LE(20));
      if (t) into.systemTime = t;
      break;
    }
    case ODID_TYPE.operatorId:
      into.operatorIdType = b[1]!;
      into.operatorId = text(b, 2, 20);
      break;
    default:
      break;
  }
  return true;
}

/**
 * Decode a single message or a message pack into `into` (fields of earlier messages stay).
 * Returns false when the bytes are neither.
 */
export function decodeOdidInto(b: Buffer, into: OdidInfo): boolean {
  if (b.length < 1) return false;
  if (b[0]! >> 4 === ODID_TYPE.pack) {
    if (b.length < 3) return false;
    const size = b[1]!;
    // The standard sends at most 9 messages of 25 bytes; a pack that claims more, or is cut
    // short by the capture, still gives every whole message it holds (a broadcast is never
    // dropped for being out of the standard).
    if (size !== ODID_MESSAGE_SIZE) return false;
    const n = Math.min(b[2]!, Math.floor((b.length - 3) / size));
    let any = false;
    for (let i = 0; i < n; i++) if (decodeOdidMessage(b.subarray(3 + i * size, 3 + (i + 1) * size), into)) any = true;
    return any;
  }
  return decodeOdidMessage(b, into);
}

/** Decode a single message or a message pack. Returns undefined when the bytes are neither. */
export function decodeOdid(b: Buffer): OdidInfo | undefined {
  const info: OdidInfo = { messages: [] };
  return decodeOdidInto(b, info) ? info : undefined;
}

/** Merge `from` into `into` (later values win; Basic IDs and auth pages accumulate). */
export function mergeOdid(into: OdidInfo, from: OdidInfo): void {
  for (const m of from.messages) if (!into.messages.includes(m)) into.messages.push(m);
  for (const [k, v] of Object.entries(from)) {
    if (k === 'messages' || k === 'basicIds' || k === 'auth' || v === undefined) continue;
    if ((k === 'serial' || k === 'idType' || k === 'uaType') && into.idType === 1 && from.idType !== 1) continue;
    (into as unknown as Record<string, unknown>)[k] = v;
  }
  for (const id of from.basicIds ?? []) {
    const list = (into.basicIds ??= []);
    if (!list.some((x) => x.idType === id.idType && x.id === id.id)) list.push(id);
  }
  for (const a of from.auth ?? []) {
    const list = (into.auth ??= []);
    let have = list.find((x) => x.authType === a.authType);
    if (!have) {
      have = { authType: a.authType, pages: [], data: '', pageData: {} };
      list.push(have);
    }
    Object.assign(have.pageData, a.pageData);
    if (a.lastPageIndex !== undefined) have.lastPageIndex = a.lastPageIndex;
    if (a.length !== undefined) have.length = a.length;
    if (a.time !== undefined) have.time = a.time;
    rebuildAuth(have);
  }
}

const r7 = (v: number) => Math.round(v * 1e7) / 1e7;

/** The decoded fields as a flat record for a finding's `fields` (names a reader can follow). */
export function odidFields(info: OdidInfo): Record<string, string | number> {
  const out: Record<string, string | number> = { messages: info.messages.join(',') };
  for (const [k, v] of Object.entries(info)) {
    if (k === 'messages' || k === 'basicIds' || k === 'auth' || v === undefined) continue;
    out[k] = typeof v === 'number' ? r7(v) : (v as string);
  }
  if (info.idType !== undefined) out.idTypeName = ODID_ID_TYPES[info.idType] ?? `reserved-${info.idType}`;
  if (info.uaType !== undefined) out.uaTypeName = ODID_UA_TYPES[info.uaType] ?? `reserved-${info.uaType}`;
  if (info.status !== undefined) out.statusName = ODID_STATUS[info.status] ?? `reserved-${info.status}`;
  if (info.operatorLocationType !== undefined) out.operatorLocationTypeName = ODID_OPERATOR_LOCATION_TYPES[info.operatorLocationType] ?? 'reserved';
  (info.basicIds ?? []).forEach((b, i) => {
    out[`basicId${i + 1}`] = `${ODID_ID_TYPES[b.idType] ?? `type-${b.idType}`}: ${b.id}`;
  });
  (info.auth ?? []).forEach((a, i) => {
    const p = `auth${i + 1}`;
    out[`${p}Type`] = ODID_AUTH_TYPES[a.authType] ?? `type-${a.authType}`;
    out[`${p}Pages`] = a.pages.join(',');
    if (a.lastPageIndex !== undefined) out[`${p}LastPage`] = a.lastPageIndex;
    if (a.length !== undefined) out[`${p}Length`] = a.length;
    if (a.time !== undefined) out[`${p}Time`] = a.time;
    out[`${p}Data`] = a.data;
  });
  return out;
}
