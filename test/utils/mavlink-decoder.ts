/**
 * An independent MAVLink v1/v2 decoder for tests, written from the published packet format
 * (mavlink.io "Packet Serialization") and message definitions (common.xml): it shares no code
 * with src/ and never calls node-mavlink, so a tlog written by Airlock is checked by something
 * that did not write it.
 *
 *   v1: 0xFE len seq sysid compid msgid(1) payload crc(2)
 *   v2: 0xFD len incompat compat seq sysid compid msgid(3, LE) payload crc(2) [signature(13) if incompat & 1]
 *   CRC: CRC-16/MCRF4XX over everything after the start byte up to the payload's end, then CRC_EXTRA.
 *   Payload fields go on the wire sorted by type size (largest first); v2 trims trailing zeros.
 */

/** CRC_EXTRA and the (wire-ordered) fields of the messages Airlock's tests look at. */
const MESSAGES: Record<number, { name: string; crcExtra: number; fields: [string, FieldType][] }> = {
  0: { name: 'HEARTBEAT', crcExtra: 50, fields: [['custom_mode', 'u32'], ['type', 'u8'], ['autopilot', 'u8'], ['base_mode', 'u8'], ['system_status', 'u8'], ['mavlink_version', 'u8']] },
  1: { name: 'SYS_STATUS', crcExtra: 124, fields: [['onboard_control_sensors_present', 'u32'], ['onboard_control_sensors_enabled', 'u32'], ['onboard_control_sensors_health', 'u32'], ['load', 'u16'], ['voltage_battery', 'u16'], ['current_battery', 'i16'], ['drop_rate_comm', 'u16'], ['errors_comm', 'u16'], ['errors_count1', 'u16'], ['errors_count2', 'u16'], ['errors_count3', 'u16'], ['errors_count4', 'u16'], ['battery_remaining', 'i8']] },
  11: { name: 'SET_MODE', crcExtra: 89, fields: [['custom_mode', 'u32'], ['target_system', 'u8'], ['base_mode', 'u8']] },
  66: { name: 'REQUEST_DATA_STREAM', crcExtra: 148, fields: [['req_message_rate', 'u16'], ['target_system', 'u8'], ['target_component', 'u8'], ['req_stream_id', 'u8'], ['start_stop', 'u8']] },
  74: { name: 'VFR_HUD', crcExtra: 20, fields: [['airspeed', 'f32'], ['groundspeed', 'f32'], ['alt', 'f32'], ['climb', 'f32'], ['heading', 'i16'], ['throttle', 'u16']] },
  75: { name: 'COMMAND_INT', crcExtra: 158, fields: [['param1', 'f32'], ['param2', 'f32'], ['param3', 'f32'], ['param4', 'f32'], ['x', 'i32'], ['y', 'i32'], ['z', 'f32'], ['command', 'u16'], ['target_system', 'u8'], ['target_component', 'u8'], ['frame', 'u8'], ['current', 'u8'], ['autocontinue', 'u8']] },
  148: { name: 'AUTOPILOT_VERSION', crcExtra: 178, fields: [['capabilities', 'u64'], ['uid', 'u64'], ['flight_sw_version', 'u32'], ['middleware_sw_version', 'u32'], ['os_sw_version', 'u32'], ['board_version', 'u32'], ['vendor_id', 'u16'], ['product_id', 'u16'], ['flight_custom_version', 'x8'], ['middleware_custom_version', 'x8'], ['os_custom_version', 'x8']] },
  30: { name: 'ATTITUDE', crcExtra: 39, fields: [['time_boot_ms', 'u32'], ['roll', 'f32'], ['pitch', 'f32'], ['yaw', 'f32'], ['rollspeed', 'f32'], ['pitchspeed', 'f32'], ['yawspeed', 'f32']] },
  33: { name: 'GLOBAL_POSITION_INT', crcExtra: 104, fields: [['time_boot_ms', 'u32'], ['lat', 'i32'], ['lon', 'i32'], ['alt', 'i32'], ['relative_alt', 'i32'], ['vx', 'i16'], ['vy', 'i16'], ['vz', 'i16'], ['hdg', 'u16']] },
  76: { name: 'COMMAND_LONG', crcExtra: 152, fields: [['param1', 'f32'], ['param2', 'f32'], ['param3', 'f32'], ['param4', 'f32'], ['param5', 'f32'], ['param6', 'f32'], ['param7', 'f32'], ['command', 'u16'], ['target_system', 'u8'], ['target_component', 'u8'], ['confirmation', 'u8']] },
  77: { name: 'COMMAND_ACK', crcExtra: 143, fields: [['command', 'u16'], ['result', 'u8'], ['progress', 'u8'], ['result_param2', 'i32'], ['target_system', 'u8'], ['target_component', 'u8']] },
  245: { name: 'EXTENDED_SYS_STATE', crcExtra: 130, fields: [['vtol_state', 'u8'], ['landed_state', 'u8']] },
  253: { name: 'STATUSTEXT', crcExtra: 83, fields: [['severity', 'u8'], ['text', 'c50'], ['id', 'u16'], ['chunk_seq', 'u8']] },
};

/** x8: uint8_t[8], given as hex; u64 as a decimal string. */
type FieldType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'c50' | 'u64' | 'x8';
const SIZE: Record<FieldType, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, c50: 50, u64: 8, x8: 8 };

export interface DecodedPacket {
  /** 1-based position among the records/packets found. */
  index: number;
  /** tlog timestamp (UNIX µs) as a bigint, when decoding a tlog. */
  timeUs?: bigint;
  version: 1 | 2;
  seq: number;
  sysid: number;
  compid: number;
  msgid: number;
  name: string;
  crcOk: boolean;
  /** Raw bytes of the packet. */
  raw: Buffer;
  /** Decoded fields (only for the messages in the table above, and only when the CRC is good). */
  fields?: Record<string, number | string>;
}

/** The classic MAVLink checksum loop (checksum.h crc_accumulate), one byte at a time. */
export function crcX25(bytes: Uint8Array, extra?: number): number {
  let crc = 0xffff;
  const acc = (b: number) => {
    let tmp = (b ^ (crc & 0xff)) & 0xff;
    tmp = (tmp ^ (tmp << 4)) & 0xff;
    crc = ((crc >> 8) ^ (tmp << 8) ^ (tmp << 3) ^ (tmp >> 4)) & 0xffff;
  };
  for (const b of bytes) acc(b);
  if (extra !== undefined) acc(extra);
  return crc;
}

function decodeFields(msgid: number, payload: Buffer): Record<string, number | string> | undefined {
  const def = MESSAGES[msgid];
  if (!def) return undefined;
  const total = def.fields.reduce((n, [, t]) => n + SIZE[t], 0);
  const p = Buffer.alloc(Math.max(total, payload.length));
  payload.copy(p); // v2 trims trailing zero bytes: pad them back
  const out: Record<string, number | string> = {};
  let o = 0;
  for (const [name, t] of def.fields) {
    switch (t) {
      case 'u8': out[name] = p.readUInt8(o); break;
      case 'i8': out[name] = p.readInt8(o); break;
      case 'u16': out[name] = p.readUInt16LE(o); break;
      case 'i16': out[name] = p.readInt16LE(o); break;
      case 'u32': out[name] = p.readUInt32LE(o); break;
      case 'i32': out[name] = p.readInt32LE(o); break;
      case 'f32': out[name] = p.readFloatLE(o); break;
      case 'u64': out[name] = p.readBigUInt64LE(o).toString(); break;
      case 'x8': out[name] = p.subarray(o, o + 8).toString('hex'); break;
      case 'c50': {
        const s = p.subarray(o, o + 50);
        const z = s.indexOf(0);
        out[name] = s.subarray(0, z < 0 ? 50 : z).toString('latin1');
        break;
      }
    }
    o += SIZE[t];
  }
  return out;
}

/** Length of the packet at buf[p] from its header, or undefined when p is not a start byte. */
function frameLength(buf: Buffer, p: number): number | undefined {
  if (buf[p] === 0xfe && p + 1 < buf.length) return 6 + buf[p + 1]! + 2;
  if (buf[p] === 0xfd && p + 2 < buf.length) return 10 + buf[p + 1]! + 2 + (buf[p + 2]! & 1 ? 13 : 0);
  return undefined;
}

function decodeAt(buf: Buffer, p: number, len: number, index: number): DecodedPacket {
  const v1 = buf[p] === 0xfe;
  const plen = buf[p + 1]!;
  const hdr = v1 ? 6 : 10;
  const msgid = v1 ? buf[p + 5]! : buf[p + 7]! | (buf[p + 8]! << 8) | (buf[p + 9]! << 16);
  const def = MESSAGES[msgid];
  const crcWire = buf.readUInt16LE(p + hdr + plen);
  const crcOk = def !== undefined && crcX25(buf.subarray(p + 1, p + hdr + plen), def.crcExtra) === crcWire;
  const raw = Buffer.from(buf.subarray(p, p + len));
  return {
    index,
    version: v1 ? 1 : 2,
    seq: buf[p + (v1 ? 2 : 4)]!,
    sysid: buf[p + (v1 ? 3 : 5)]!,
    compid: buf[p + (v1 ? 4 : 6)]!,
    msgid,
    name: def?.name ?? `MSG_${msgid}`,
    crcOk,
    raw,
    ...(crcOk ? { fields: decodeFields(msgid, buf.subarray(p + hdr, p + hdr + plen)) } : {}),
  };
}

export interface DecodeResult {
  packets: DecodedPacket[];
  /** Records whose CRC did not match (or whose message is not in the table). */
  badCrc: number;
  /** Bytes skipped looking for the next record. */
  skippedBytes: number;
}

/**
 * Decode a tlog: 8-byte big-endian UNIX µs, then one packet, repeated. On a record that
 * does not frame, skip a byte and try again (counted, never thrown).
 */
export function decodeTlog(buf: Buffer): DecodeResult {
  const packets: DecodedPacket[] = [];
  let badCrc = 0;
  let skippedBytes = 0;
  let p = 0;
  while (p + 8 + 3 <= buf.length) {
    const len = frameLength(buf, p + 8);
    if (len === undefined || p + 8 + len > buf.length) {
      skippedBytes++;
      p++;
      continue;
    }
    const pkt = decodeAt(buf, p + 8, len, packets.length + badCrc + 1);
    if (!pkt.crcOk) {
      badCrc++;
      skippedBytes++;
      p++;
      continue;
    }
    pkt.timeUs = buf.readBigUInt64BE(p);
    packets.push(pkt);
    p += 8 + len;
  }
  skippedBytes += buf.length - p;
  return { packets, badCrc, skippedBytes };
}

/** Decode a raw byte stream (what crossed a serial line). */
export function decodeStream(buf: Buffer): DecodeResult {
  const packets: DecodedPacket[] = [];
  let badCrc = 0;
  let skippedBytes = 0;
  let p = 0;
  while (p < buf.length) {
    const len = frameLength(buf, p);
    if (len === undefined || p + len > buf.length) {
      skippedBytes++;
      p++;
      continue;
    }
    const pkt = decodeAt(buf, p, len, packets.length + 1);
    if (!pkt.crcOk) {
      badCrc++;
      skippedBytes++;
      p++;
      continue;
    }
    packets.push(pkt);
    p += len;
  }
  return { packets, badCrc, skippedBytes };
}
