/**
 * The MAVLink link: the FlightLink capability, its factory, the tlog reader, and the framing
 * and codec pieces the virtual vehicle shares.
 */
import type pino from 'pino';
import type { RigLink } from '../../config/types.js';
import type { FlightLink } from './flight-link.js';
import { MavlinkLink } from './mavlink-link.js';

export type { FlightLink, FlightCondition, LinkStats, LinkEvent, CommandResult, AutopilotIdentity } from './flight-link.js';
export { STREAM_NEEDS, DATA_STREAM_OF } from './streams.js';
export type { StreamRecord } from './streams.js';
export { FlightError, FlightOpenError, FlightInputError } from './errors.js';
export type { FlightErrorCode } from './errors.js';
export { readTlog, summarizeTlog } from '../../analysis/mavlink/tlog.js';
export { TlogWriter } from './tlog-writer.js';
export type { TlogRecord, TlogReadStats, TlogSummary } from '../../analysis/mavlink/tlog.js';
export { parseEndpoint } from './transport.js';
export type { Endpoint } from './transport.js';
export { FrameScanner, packetMsgId, packetSysId, checkPacket, CHECK_OK } from '../../analysis/mavlink/framing.js';
export type { DamageInfo } from '../../analysis/mavlink/framing.js';
export { PacketEncoder, decodePacket, message, MSG, MAV_CMD, MAGIC_FORCE_ARM, MAV_LANDED_STATE } from './codec.js';
export { modeName, modeRequest, nativeModeName, PORTABLE_MODES, ARDUPILOT_ARMABLE, PX4_ARMABLE } from './modes.js';
export type { Autopilot } from './modes.js';
export { messageName } from '../../analysis/mavlink/crc.js';

export function createFlightLink(
  cfg: RigLink,
  ctx: { log: pino.Logger; resolvePort(port: string): string; tlogPath: string },
): FlightLink {
  return new MavlinkLink(cfg, ctx);
}
