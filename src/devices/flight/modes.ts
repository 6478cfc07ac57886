/**
 * Flight mode names to what goes on the wire. ArduPilot Copter numbers its modes in
 * custom_mode (the CopterMode table of ardupilotmega.xml); PX4 packs a main mode in bits
 * 16-23 and a sub mode in bits 24-31 of custom_mode, and DO_SET_MODE takes them as param2
 * and param3.
 */
import { ardupilotmega } from 'node-mavlink';

export type Autopilot = 'ardupilot' | 'px4';

export interface ModeRequest {
  /** DO_SET_MODE param2 */
  param2: number;
  /** DO_SET_MODE param3 */
  param3: number;
  /** custom_mode as HEARTBEAT reports it once the mode is in effect. */
  customMode: number;
}

const PX4_MAIN: Record<string, number> = {
  MANUAL: 1,
  ALTCTL: 2,
  POSCTL: 3,
  AUTO: 4,
  ACRO: 5,
  OFFBOARD: 6,
  STABILIZED: 7,
  RATTITUDE: 8,
};
const PX4_AUTO_SUB: Record<string, number> = {
  READY: 1,
  TAKEOFF: 2,
  LOITER: 3,
  MISSION: 4,
  RTL: 5,
  LAND: 6,
  FOLLOW_TARGET: 8,
  PRECLAND: 9,
};
/**
 * The one table of portable mode names: a scenario says `set_mode: GUIDED` and each autopilot
 * gets its own way of doing it. PX4 has no GUIDED mode: a ground station flies PX4 from Hold
 * (AUTO.LOITER), which takes the takeoff, reposition and land commands a ground station sends.
 * A name not in this table is the autopilot's own (ArduPilot's CopterMode names, PX4's
 * MAIN or AUTO.SUB names) and is used as it is.
 */
export const PORTABLE_MODES: Record<string, { ardupilot: string; px4: string }> = {
  GUIDED: { ardupilot: 'GUIDED', px4: 'AUTO.LOITER' },
  HOLD: { ardupilot: 'LOITER', px4: 'AUTO.LOITER' },
  LOITER: { ardupilot: 'LOITER', px4: 'AUTO.LOITER' },
  TAKEOFF: { ardupilot: 'GUIDED', px4: 'AUTO.TAKEOFF' },
  LAND: { ardupilot: 'LAND', px4: 'AUTO.LAND' },
  RTL: { ardupilot: 'RTL', px4: 'AUTO.RTL' },
  RETURN: { ardupilot: 'RTL', px4: 'AUTO.RTL' },
  MISSION: { ardupilot: 'AUTO', px4: 'AUTO.MISSION' },
  POSITION: { ardupilot: 'POSHOLD', px4: 'POSCTL' },
  ALTITUDE: { ardupilot: 'ALT_HOLD', px4: 'ALTCTL' },
  STABILIZE: { ardupilot: 'STABILIZE', px4: 'STABILIZED' },
};

/** The autopilot's own name for a (portable or native) mode name. */
export function nativeModeName(autopilot: Autopilot, name: string): string {
  const upper = name.trim().toUpperCase().replace(/[\s-]/g, '_');
  return PORTABLE_MODES[upper]?.[autopilot] ?? upper;
}

/** The custom-mode request for a mode name, or undefined when the autopilot has no such mode. */
export function modeRequest(autopilot: Autopilot, name: string): ModeRequest | undefined {
  const upper = nativeModeName(autopilot, name);
  if (autopilot === 'ardupilot') {
    const n = (ardupilotmega.CopterMode as unknown as Record<string, number>)[upper];
    if (typeof n !== 'number') return undefined;
    return { param2: n, param3: 0, customMode: n };
  }
  const [main, sub] = upper.split('.');
  const mainN = PX4_MAIN[main!];
  if (mainN === undefined) return undefined;
  let subN = 0;
  if (sub !== undefined) {
    if (mainN !== PX4_MAIN.AUTO) return undefined;
    const s = PX4_AUTO_SUB[sub];
    if (s === undefined) return undefined;
    subN = s;
  }
  return { param2: mainN, param3: subN, customMode: ((mainN << 16) | (subN << 24)) >>> 0 };
}

/** A mode name for a HEARTBEAT custom_mode. */
export function modeName(autopilot: Autopilot, customMode: number): string {
  if (autopilot === 'ardupilot') {
    const n = (ardupilotmega.CopterMode as unknown as Record<number, string>)[customMode];
    return n ?? `MODE_${customMode}`;
  }
  const main = (customMode >>> 16) & 0xff;
  const sub = (customMode >>> 24) & 0xff;
  const mainName = Object.keys(PX4_MAIN).find((k) => PX4_MAIN[k] === main) ?? `MAIN_${main}`;
  if (main !== PX4_MAIN.AUTO || sub === 0) return mainName;
  const subName = Object.keys(PX4_AUTO_SUB).find((k) => PX4_AUTO_SUB[k] === sub) ?? `SUB_${sub}`;
  return `${mainName}.${subName}`;
}

/** ArduPilot Copter mode names that allow arming (Mode::allows_arming). */
/** PX4 modes a multicopter may be armed in (the commander refuses the others). */
export const PX4_ARMABLE = new Set([
  'MANUAL', 'ALTCTL', 'POSCTL', 'ACRO', 'STABILIZED', 'OFFBOARD', 'AUTO.LOITER', 'AUTO.TAKEOFF', 'AUTO.MISSION',
]);

export const ARDUPILOT_ARMABLE = new Set([
  'STABILIZE', 'ACRO', 'ALT_HOLD', 'GUIDED', 'LOITER', 'DRIFT', 'SPORT', 'POSHOLD', 'BRAKE',
  'THROW', 'GUIDED_NOGPS', 'FLOWHOLD', 'FOLLOW', 'ZIGZAG', 'SYSTEMID', 'TURTLE',
]);
