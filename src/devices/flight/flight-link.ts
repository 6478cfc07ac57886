/**
 * The capability the orchestrator uses to talk to a vehicle: one MAVLink link. Concrete
 * transports (serial, UDP, TCP) live behind `createFlightLink` in index.ts.
 */

import type { StreamRecord } from './streams.js';

export type FlightCondition = 'heartbeat' | 'armed' | 'disarmed' | 'landed' | { altitudeAbove: number };

export interface LinkStats {
  /** Packets received, by message name. */
  rx: Record<string, number>;
  /** Packets sent, by message name. */
  tx: Record<string, number>;
  crcErrors: number;
  unknownIds: number;
  badBytes: number;
  heartbeatLosses: number;
  /** Packets the vehicle sent that never arrived, from gaps in its sequence numbers. */
  seqGaps: number;
  /** Link up / lost events (UNIX ms). */
  events: LinkEvent[];
  /** What was asked of the autopilot and what came (the last round of requests). */
  streams: StreamRecord[];
  /** The vehicle and autopilot as they introduced themselves (HEARTBEAT, AUTOPILOT_VERSION). */
  identity?: AutopilotIdentity;
  /** Set when the transport failed (device gone, serial error, socket closed): the record is not whole. */
  lossy?: string;
}

/** What the vehicle said it is: vehicle type from HEARTBEAT, the rest from AUTOPILOT_VERSION. */
export interface AutopilotIdentity {
  /** MAV_AUTOPILOT name from HEARTBEAT (ARDUPILOTMEGA, PX4). */
  autopilot?: string;
  /** MAV_TYPE name from HEARTBEAT (QUADROTOR, HEXAROTOR...). */
  vehicleType?: string;
  /** Flight software version "4.5.7" and its release type (official, beta, dev...). */
  flightSwVersion?: string;
  releaseType?: string;
  /** First 8 bytes of the flight software's git hash, as the autopilot reports them. */
  gitHash?: string;
  boardVersion?: number;
  vendorId?: number;
  productId?: number;
  uid?: string;
  /** How the identity was obtained, or why it is missing. */
  source: string;
}

export interface LinkEvent {
  type: 'up' | 'lost';
  /** UNIX time, ms. */
  time: number;
}

export interface CommandResult {
  /** MAV_RESULT name of the last ACK: ACCEPTED, FAILED, DENIED, UNSUPPORTED, TEMPORARILY_REJECTED... */
  result: string;
  /** The autopilot's last STATUSTEXT while the command was in flight (e.g. "PreArm: ..."). */
  statustext?: string;
  /** COMMAND_LONG transmissions made. */
  attempts?: number;
}

export interface FlightLink {
  readonly name: string;
  open(): Promise<void>;
  /** Flushes and closes the tlog too. */
  close(): Promise<void>;
  command(
    name: string,
    params: Record<string, number | string>,
    opts: { timeoutMs: number; retries: number },
  ): Promise<CommandResult>;
  /** Rejects with a FlightError (code, link, condition). */
  waitFor(cond: FlightCondition, timeoutMs: number): Promise<void>;
  setQuiet(quiet: boolean): void;
  stats(): LinkStats;
  /** Returns unsubscribe. */
  onPacket(listener: (msgName: string, sysid: number) => void): () => void;
  /** Link up / lost notifications. Returns unsubscribe. */
  onLinkEvent(listener: (event: LinkEvent) => void): () => void;
  /** Timeline notes: stream requests and what came, the autopilot's identity, transport faults. Returns unsubscribe. */
  onNote(listener: (event: string, fields: Record<string, unknown>) => void): () => void;
}
