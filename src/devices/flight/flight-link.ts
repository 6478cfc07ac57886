/**
 * The capability the orchestrator uses to talk to a vehicle: one MAVLink link. Concrete
 * transports (serial, UDP, TCP) live behind `createFlightLink` in index.ts.
 */

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
}
