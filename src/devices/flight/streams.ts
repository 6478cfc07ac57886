/**
 * What the link asks the autopilot to send, and what came.
 *
 * Real autopilots do not stream everything unasked. ArduPilot sends on a telemetry port only
 * what its SRn_* stream-rate parameters or a ground station's requests ask for; PX4 streams a
 * default set per MAVLink mode ("Normal" on a ground-station link). So, like a ground station,
 * the link asks for each message its conditions and records need, at a stated rate:
 * MAV_CMD_SET_MESSAGE_INTERVAL first (the current MAVLink way; ArduPilot 4.x and PX4 accept
 * it), REQUEST_DATA_STREAM for the stream group that carries the message where that is
 * refused or unanswered (ArduPilot 3.x; EXTENDED_SYS_STATE belongs to no ArduPilot group), and
 * then checks that each message arrives. A condition that waits on a message that never came
 * names the message and this record of the request.
 */

export interface StreamNeed {
  msgid: number;
  message: string;
  hz: number;
  /** What needs it (shown in the timeline). */
  why: string;
}

/** The messages the link's conditions and records need, at the rates it asks for. */
export const STREAM_NEEDS: readonly StreamNeed[] = [
  { msgid: 33, message: 'GLOBAL_POSITION_INT', hz: 4, why: 'altitude_above; the takeoff altitude on PX4' },
  { msgid: 245, message: 'EXTENDED_SYS_STATE', hz: 2, why: 'landed' },
  { msgid: 1, message: 'SYS_STATUS', hz: 1, why: 'the telemetry record (battery, sensor health)' },
];

/**
 * MAV_DATA_STREAM groups and the messages ArduPilot sends in each (ArduPilot's "Requesting
 * Data From The Autopilot" and its SRn_* parameter descriptions). A message missing here has
 * no group: only SET_MESSAGE_INTERVAL brings it.
 */
export const DATA_STREAM_OF: Readonly<Record<number, { id: number; name: string }>> = {
  1: { id: 2, name: 'EXTENDED_STATUS' }, // SYS_STATUS (with GPS_RAW_INT, MEMINFO...)
  33: { id: 6, name: 'POSITION' }, // GLOBAL_POSITION_INT
  30: { id: 10, name: 'EXTRA1' }, // ATTITUDE
  74: { id: 11, name: 'EXTRA2' }, // VFR_HUD
};

export type StreamState = 'requested' | 'arriving' | 'missing';

export interface StreamRecord {
  message: string;
  msgid: number;
  hz: number;
  why: string;
  /** UNIX ms of the request. */
  requestedAt: number;
  /** The COMMAND_ACK result of SET_MESSAGE_INTERVAL, or "no answer". */
  interval?: string;
  /** The REQUEST_DATA_STREAM fallback: the group asked for, or why there was none. */
  dataStream?: string;
  /** Packets of this message from the vehicle since the request. */
  received: number;
  firstAt?: number;
  lastAt?: number;
  state: StreamState;
}

/** One round of requests (at the first heartbeat, again after each reboot). */
export class StreamBook {
  private readonly records = new Map<number, StreamRecord>();
  private readonly everSeen = new Map<number, number>();

  request(need: StreamNeed, now: number): StreamRecord {
    const rec: StreamRecord = { message: need.message, msgid: need.msgid, hz: need.hz, why: need.why, requestedAt: now, received: 0, state: 'requested' };
    this.records.set(need.msgid, rec);
    return rec;
  }

  /** A packet from the vehicle. */
  seen(msgid: number, now: number): void {
    this.everSeen.set(msgid, now);
    const rec = this.records.get(msgid);
    if (!rec) return;
    rec.received++;
    rec.firstAt ??= now;
    rec.lastAt = now;
    if (rec.state !== 'arriving') rec.state = 'arriving';
  }

  /** Mark what has not come by now as missing (called a few intervals after the requests). */
  check(): StreamRecord[] {
    for (const r of this.records.values()) if (r.received === 0) r.state = 'missing';
    return this.report();
  }

  lastSeen(msgid: number): number | undefined {
    return this.everSeen.get(msgid);
  }

  report(): StreamRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }

  /** "requested at 4 Hz by SET_MESSAGE_INTERVAL, refused (DENIED); REQUEST_DATA_STREAM POSITION at 4 Hz sent". */
  describe(msgid: number, name: string): string {
    const r = this.records.get(msgid);
    if (!r) return `${name} was never requested (no heartbeat from the autopilot while Airlock could send)`;
    let s = `requested at ${r.hz} Hz by SET_MESSAGE_INTERVAL, ${r.interval === undefined ? 'awaiting an answer' : r.interval === 'ACCEPTED' ? 'accepted' : r.interval === 'no answer' ? 'unanswered' : `refused (${r.interval})`}`;
    if (r.dataStream) s += `; ${r.dataStream}`;
    return s;
  }
}
