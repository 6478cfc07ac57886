/** The LCUS (LC Technology CH340 relay board) frame: A0 <channel> <state> <checksum>. */
export const LCUS_START = 0xa0;

export function lcusFrame(channel: number, closed: boolean): Buffer {
  const state = closed ? 0x01 : 0x00;
  return Buffer.from([LCUS_START, channel, state, (LCUS_START + channel + state) & 0xff]);
}

export function lcusChecksumOk(frame: Buffer): boolean {
  return frame.length === 4 && ((frame[0] + frame[1] + frame[2]) & 0xff) === frame[3];
}
