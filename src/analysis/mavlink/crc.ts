/**
 * MAVLink's checksum: CRC-16/MCRF4XX (X.25 polynomial 0x1021 reflected, init 0xFFFF) over the
 * packet after the start byte, then over the message's CRC_EXTRA byte. Hand-written and
 * table-driven because the tlog reader checks every packet of a flight at over a million
 * packets a second; CRC_EXTRA values come from the message definitions in mavlink-mappings
 * (the package node-mavlink brings), looked up once into a flat table.
 */
import { minimal, common, standard, ardupilotmega } from 'node-mavlink';
import type { MavLinkDataConstructor, MavLinkData } from 'node-mavlink';

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i;
  for (let j = 0; j < 8; j++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
  TABLE[i] = crc;
}

/** Accumulate bytes buf[start, end) into a running CRC (start with 0xffff). */
export function crcAccumulate(crc: number, buf: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ buf[i]!) & 0xff]!;
  return crc;
}

export function crcByte(crc: number, byte: number): number {
  return (crc >>> 8) ^ TABLE[(crc ^ byte) & 0xff]!;
}

/** Every message class Airlock knows: minimal, standard (AUTOPILOT_VERSION), common and the ArduPilot dialect. */
export const MESSAGE_REGISTRY: Record<number, MavLinkDataConstructor<MavLinkData>> = {
  ...minimal.REGISTRY,
  ...standard.REGISTRY,
  ...common.REGISTRY,
  ...ardupilotmega.REGISTRY,
};

/** CRC_EXTRA per message id below 65536 (-1: unknown); ids above that are looked up in a Map. */
const EXTRA_LOW = new Int16Array(65536).fill(-1);
const EXTRA_HIGH = new Map<number, number>();
/** Message names by id, for statistics. */
const NAMES = new Map<number, string>();
for (const [id, clazz] of Object.entries(MESSAGE_REGISTRY)) {
  const n = Number(id);
  if (n < 65536) EXTRA_LOW[n] = clazz.MAGIC_NUMBER;
  else EXTRA_HIGH.set(n, clazz.MAGIC_NUMBER);
  NAMES.set(n, clazz.MSG_NAME);
}

/** CRC_EXTRA for a message id, or -1 when the id is unknown. */
export function crcExtra(msgid: number): number {
  return msgid < 65536 ? EXTRA_LOW[msgid]! : (EXTRA_HIGH.get(msgid) ?? -1);
}

export function messageName(msgid: number): string {
  return NAMES.get(msgid) ?? `UNKNOWN_${msgid}`;
}
