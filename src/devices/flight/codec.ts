/**
 * Encoding and decoding of message payloads, through node-mavlink and its mappings. Framing
 * and CRC checks are ours (framing.ts); node-mavlink turns a checked packet's payload into a
 * typed message and a message into bytes.
 */
import { MavLinkProtocolV1, MavLinkProtocolV2 } from 'node-mavlink';
import type { MavLinkData } from 'node-mavlink';
import { MESSAGE_REGISTRY } from '../../analysis/mavlink/crc.js';
import { MAGIC_V1, packetMsgId } from '../../analysis/mavlink/framing.js';

const V1 = new MavLinkProtocolV1();
const V2 = new MavLinkProtocolV2();

/** Decode a checked packet into node-mavlink's message object (undefined for unknown ids). */
export function decodePacket(packet: Buffer): MavLinkData | undefined {
  const clazz = MESSAGE_REGISTRY[packetMsgId(packet, 0)];
  if (!clazz) return undefined;
  const proto = packet[0] === MAGIC_V1 ? V1 : V2;
  return proto.data(proto.payload(packet), clazz);
}

/** A sender of one system/component: keeps its own sequence number. */
export class PacketEncoder {
  private seq = 0;
  private v1: MavLinkProtocolV1;
  private v2: MavLinkProtocolV2;
  version: 1 | 2 = 2;

  constructor(sysid: number, compid: number) {
    this.v1 = new MavLinkProtocolV1(sysid, compid);
    this.v2 = new MavLinkProtocolV2(sysid, compid);
  }

  encode(msg: MavLinkData): Buffer {
    const proto = this.version === 1 ? this.v1 : this.v2;
    const buf = proto.serialize(msg, this.seq);
    this.seq = (this.seq + 1) & 0xff;
    return buf;
  }
}

/** Build a message of the class registered for `msgid`, with fields assigned. */
export function message<T extends MavLinkData>(msgid: number, fields: Record<string, unknown>): T {
  const clazz = MESSAGE_REGISTRY[msgid];
  if (!clazz) throw new Error(`no MAVLink message ${msgid}`);
  return Object.assign(new clazz(), fields) as T;
}

/** Message ids used by Airlock and the vehicle simulator. */
export const MSG = {
  HEARTBEAT: 0,
  SYS_STATUS: 1,
  SET_MODE: 11,
  ATTITUDE: 30,
  GLOBAL_POSITION_INT: 33,
  REQUEST_DATA_STREAM: 66,
  VFR_HUD: 74,
  COMMAND_INT: 75,
  COMMAND_LONG: 76,
  COMMAND_ACK: 77,
  AUTOPILOT_VERSION: 148,
  EXTENDED_SYS_STATE: 245,
  STATUSTEXT: 253,
} as const;

export const MAV_CMD = {
  NAV_RETURN_TO_LAUNCH: 20,
  NAV_LAND: 21,
  NAV_TAKEOFF: 22,
  DO_SET_MODE: 176,
  DO_REPOSITION: 192,
  PREFLIGHT_CALIBRATION: 241,
  PREFLIGHT_REBOOT_SHUTDOWN: 246,
  COMPONENT_ARM_DISARM: 400,
  REQUEST_AUTOPILOT_CAPABILITIES: 520,
  SET_MESSAGE_INTERVAL: 511,
  REQUEST_MESSAGE: 512,
} as const;

export const MAV_RESULT_NAMES = [
  'ACCEPTED',
  'TEMPORARILY_REJECTED',
  'DENIED',
  'UNSUPPORTED',
  'FAILED',
  'IN_PROGRESS',
  'CANCELLED',
  'COMMAND_LONG_ONLY',
  'COMMAND_INT_ONLY',
  'COMMAND_UNSUPPORTED_MAV_FRAME',
] as const;

export const MAV_MODE_FLAG_SAFETY_ARMED = 128;
export const MAV_MODE_FLAG_CUSTOM_MODE_ENABLED = 1;
export const MAV_LANDED_STATE = { UNDEFINED: 0, ON_GROUND: 1, IN_AIR: 2, TAKEOFF: 3, LANDING: 4 } as const;
/** Force value for arm/disarm param2 (ArduPilot and PX4). */
export const MAGIC_FORCE_ARM = 21196;
