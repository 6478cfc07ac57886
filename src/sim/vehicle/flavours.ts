/**
 * The two autopilots the virtual vehicle can be, as a ground station meets them. Each entry
 * says only what differs; vehicle.ts does the flying. Values come from the autopilots' own
 * documentation (docs/technician/autopilots.md lists the sources):
 *
 * ArduPilot Copter: sends on a telemetry port only HEARTBEAT, STATUSTEXT, replies, and what
 * its SRn_* stream rates say (all 0 on Copter) until a ground station asks (REQUEST_DATA_STREAM
 * for a stream group, SET_MESSAGE_INTERVAL for one message). EXTENDED_SYS_STATE belongs to no
 * stream group. Refuses to arm until its pre-arm checks pass ("PreArm: ..." STATUSTEXT, ACK
 * FAILED); disarms by itself DISARM_DELAY (10 s) after arming without taking off, and at once
 * on touchdown in LAND. Modes are the CopterMode numbers; takeoff only in GUIDED.
 *
 * PX4 multicopter: streams the "Normal" MAVLink mode's default set on a ground-station link
 * without being asked; no REQUEST_DATA_STREAM. Modes are main/sub modes in custom_mode; there
 * is no GUIDED. Arming is refused while health checks fail ("Preflight Fail: ...", ACK
 * TEMPORARILY_REJECTED); it disarms COM_DISARM_PRFLT (10 s) after arming without taking off
 * and COM_DISARM_LAND (2 s) after the land detector sees the ground. NAV_TAKEOFF switches to
 * AUTO.TAKEOFF with param7 an AMSL altitude (NaN: MIS_TAKEOFF_ALT, 2.5 m) and ends in
 * AUTO.LOITER.
 */
import { MSG } from '../../devices/flight/index.js';

export type Flavour = 'ardupilot' | 'px4';

/** MAV_DATA_STREAM ids and the messages the simulator sends in each (ArduPilot's groups). */
export const ARDUPILOT_GROUPS: Record<number, { name: string; messages: number[] }> = {
  2: { name: 'EXTENDED_STATUS', messages: [MSG.SYS_STATUS] },
  6: { name: 'POSITION', messages: [MSG.GLOBAL_POSITION_INT] },
  10: { name: 'EXTRA1', messages: [MSG.ATTITUDE] },
  11: { name: 'EXTRA2', messages: [MSG.VFR_HUD] },
};

export interface FlavourSpec {
  /** MAV_AUTOPILOT in HEARTBEAT. */
  autopilot: number;
  /** Messages streamed unasked, Hz (besides HEARTBEAT at 1 Hz). */
  defaultRates: Record<number, number>;
  /** Whether REQUEST_DATA_STREAM does anything. */
  dataStreams: boolean;
  /** AUTOPILOT_VERSION values. */
  version: { major: number; minor: number; patch: number; gitHash: string; hashIsAscii: boolean; boardVersion: number; vendorId: number; productId: number };
  /** Armed on the ground without a takeoff this long: disarm (ms). */
  disarmIdleMs: number;
  /** After touchdown in a landing mode: disarm this long after (ms). */
  disarmAfterLandMs: number;
  prearmText: string;
  /** MAV_RESULT for an arm refused by pre-arm checks. */
  prearmResult: number;
  /** Default takeoff altitude when param7 is NaN (m above home). */
  defaultTakeoffAltM: number;
  /** Return altitude above home (m): ArduPilot RTL_ALT, PX4 RTL_RETURN_ALT. */
  rtlAltM: number;
}

export const FLAVOURS: Record<Flavour, FlavourSpec> = {
  ardupilot: {
    autopilot: 3, // MAV_AUTOPILOT_ARDUPILOTMEGA
    defaultRates: {}, // Copter's SRn_* parameters are 0 by default
    dataStreams: true,
    version: { major: 4, minor: 5, patch: 7, gitHash: '2a3dc4b7', hashIsAscii: true, boardVersion: 0, vendorId: 0, productId: 0 },
    disarmIdleMs: 10_000,
    disarmAfterLandMs: 0,
    prearmText: 'PreArm: Need Position Estimate',
    prearmResult: 4, // FAILED
    defaultTakeoffAltM: NaN, // ArduPilot needs an altitude
    rtlAltM: 15,
  },
  px4: {
    autopilot: 12, // MAV_AUTOPILOT_PX4
    // The Normal mode set, the messages this simulator can produce.
    defaultRates: { [MSG.SYS_STATUS]: 1, [MSG.EXTENDED_SYS_STATE]: 1, [MSG.GLOBAL_POSITION_INT]: 5, [MSG.ATTITUDE]: 15, [MSG.VFR_HUD]: 4 },
    dataStreams: false,
    version: { major: 1, minor: 15, patch: 2, gitHash: '5f4e1a9c0b7d2e63', hashIsAscii: false, boardVersion: 0, vendorId: 0, productId: 0 },
    disarmIdleMs: 10_000,
    disarmAfterLandMs: 2_000,
    prearmText: 'Preflight Fail: ekf2 missing data',
    prearmResult: 1, // TEMPORARILY_REJECTED
    defaultTakeoffAltM: 2.5,
    rtlAltM: 60,
  },
};
