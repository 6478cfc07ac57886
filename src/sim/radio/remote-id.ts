/**
 * Open Drone ID encoder for the simulated firmware: a Message Pack (ASTM F3411-22a) holding
 * Basic ID (serial number), Location (aircraft position) and System (operator position),
 * written from the published message layouts. The virtual firmware sends the pack as a UDP
 * datagram to REMOTE_ID_PORT on the air; the virtual Wi-Fi monitor turns each such datagram
 * into a beacon carrying the vendor-specific element (OUI FA:0B:BC, type 0x0D).
 */

/** UDP port on the air link that carries Remote ID message packs in the virtual rig (sent as Wi-Fi beacons). */
export const REMOTE_ID_PORT = 4950;
/** UDP port on the air link for Remote ID sent over Bluetooth 5 long range (the virtual BLE sniffer hears these). */
export const REMOTE_ID_BLE_PORT = 4951;

const SIZE = 25;
const PROTOCOL_VERSION = 2;

export interface OdidEncodeFields {
  /** UAS serial number (ANSI/CTA-2063-A), at most 20 characters. */
  serial: string;
  /** Basic ID id type: 1 serial number (default), 2 CAA registration, 3 UTM id, 4 specific session id. */
  idType?: number;
  /** UA type: 2 helicopter or multirotor (default). */
  uaType?: number;
  /** Aircraft position (degrees) and geodetic altitude (m). */
  lat: number;
  lon: number;
  altGeoM?: number;
  altBaroM?: number;
  heightM?: number;
  /** Operational status: 1 ground (default), 2 airborne. */
  status?: number;
  speedMps?: number;
  verticalSpeedMps?: number;
  directionDeg?: number;
  /** Operator (pilot) position (degrees) and altitude (m). */
  operatorLat: number;
  operatorLon: number;
  operatorAltM?: number;
  /** Time for Location (ms since epoch; default now) and System messages. */
  timeMs?: number;
}

function header(type: number): number {
  return (type << 4) | PROTOCOL_VERSION;
}

function encAlt(m: number | undefined): number {
  if (m === undefined) return 0; // invalid / unknown
  return Math.max(0, Math.min(0xffff, Math.round((m + 1000) * 2)));
}

function encDeg(d: number): number {
  return Math.round(d * 1e7);
}

export function encodeBasicId(f: Pick<OdidEncodeFields, 'serial' | 'idType' | 'uaType'>): Buffer {
  const b = Buffer.alloc(SIZE);
  b[0] = header(0x0);
  b[1] = (((f.idType ?? 1) & 0x0f) << 4) | ((f.uaType ?? 2) & 0x0f);
  b.write(f.serial.slice(0, 20), 2, 'latin1');
  return b;
}

export function encodeLocation(f: OdidEncodeFields): Buffer {
  const b = Buffer.alloc(SIZE);
  b[0] = header(0x1);
  const dir = f.directionDeg ?? 361; // 361: unknown, written as 181 with the E/W bit
  const ew = dir >= 180 ? 1 : 0;
  const speed = f.speedMps ?? 0;
  const mult = speed > 255 * 0.25 ? 1 : 0;
  b[1] = (((f.status ?? 1) & 0x0f) << 4) | (ew << 1) | mult;
  b[2] = dir > 359 ? 181 : ew ? dir - 180 : dir;
  b[3] = Math.min(254, Math.round(mult ? (speed - 255 * 0.25) / 0.75 : speed / 0.25));
  // Vertical speed in 0.5 m/s steps, +-62 m/s; 126 (63 m/s) is "unknown".
  b.writeInt8(f.verticalSpeedMps === undefined ? 126 : Math.max(-124, Math.min(124, Math.round(f.verticalSpeedMps / 0.5))), 4);
  b.writeInt32LE(encDeg(f.lat), 5);
  b.writeInt32LE(encDeg(f.lon), 9);
  b.writeUInt16LE(encAlt(f.altBaroM), 13);
  b.writeUInt16LE(encAlt(f.altGeoM), 15);
  b.writeUInt16LE(encAlt(f.heightM), 17);
  const t = new Date(f.timeMs ?? Date.now());
  b.writeUInt16LE(((t.getUTCMinutes() * 60 + t.getUTCSeconds()) * 10 + Math.floor(t.getUTCMilliseconds() / 100)) % 36000, 21);
  return b;
}

export function encodeSystem(f: OdidEncodeFields): Buffer {
  const b = Buffer.alloc(SIZE);
  b[0] = header(0x4);
  b[1] = 0x01; // operator location type: live GNSS
  b.writeInt32LE(encDeg(f.operatorLat), 2);
  b.writeInt32LE(encDeg(f.operatorLon), 6);
  b.writeUInt16LE(1, 10); // area count
  b.writeUInt16LE(encAlt(f.operatorAltM), 18);
  const epoch2019 = Date.UTC(2019, 0, 1);
  b.writeUInt32LE(Math.max(0, Math.floor(((f.timeMs ?? Date.now()) - epoch2019) / 1000)), 20);
  return b;
}

/** Basic ID with a specific session ID (ID type 4): the session ID bytes as given (at most 20). */
export function encodeSessionId(sessionId: Buffer, uaType = 2): Buffer {
  const b = Buffer.alloc(SIZE);
  b[0] = header(0x0);
  b[1] = (4 << 4) | (uaType & 0x0f);
  sessionId.subarray(0, 20).copy(b, 2);
  return b;
}

/**
 * Authentication message pages for `data` (auth type, e.g. 1 UAS ID signature): page 0 holds
 * the last page index, the data length, a timestamp (s since 2019-01-01) and 17 bytes of data;
 * each further page 23 bytes.
 */
export function encodeAuthPages(authType: number, data: Buffer, timeMs: number): Buffer[] {
  const pages: Buffer[] = [];
  const rest = Math.max(0, data.length - 17);
  const last = Math.ceil(rest / 23);
  for (let page = 0; page <= last; page++) {
    const b = Buffer.alloc(SIZE);
    b[0] = header(0x2);
    b[1] = ((authType & 0x0f) << 4) | page;
    if (page === 0) {
      b[2] = last;
      b[3] = data.length;
      b.writeUInt32LE(Math.max(0, Math.floor((timeMs - Date.UTC(2019, 0, 1)) / 1000)), 4);
      data.subarray(0, 17).copy(b, 8);
    } else data.subarray(17 + (page - 1) * 23, 17 + page * 23).copy(b, 2);
    pages.push(b);
  }
  return pages;
}

export function encodeSelfId(text: string, descType = 0): Buffer {
  const b = Buffer.alloc(SIZE);
  b[0] = header(0x3);
  b[1] = descType;
  b.write(text.slice(0, 23), 2, 'latin1');
  return b;
}

export function encodeOperatorId(operatorId: string, idType = 0): Buffer {
  const b = Buffer.alloc(SIZE);
  b[0] = header(0x5);
  b[1] = idType;
  b.write(operatorId.slice(0, 20), 2, 'latin1');
  return b;
}

/** A Message Pack of the given 25-byte messages (at most 9). */
export function packMessages(msgs: Buffer[]): Buffer {
  if (msgs.length < 1 || msgs.length > 9) throw new Error(`a message pack holds 1 to 9 messages, not ${msgs.length}`);
  return Buffer.concat([Buffer.from([header(0xf), SIZE, msgs.length]), ...msgs]);
}

/** Message Pack: header 0xF2, message size 25, count, then Basic ID, Location, System (and Operator ID when given). */
export function encodeOdidMessagePack(fields: OdidEncodeFields & { operatorId?: string }): Buffer {
  const msgs = [encodeBasicId(fields), encodeLocation(fields), encodeSystem(fields)];
  if (fields.operatorId !== undefined) msgs.push(encodeOperatorId(fields.operatorId));
  return packMessages(msgs);
}
