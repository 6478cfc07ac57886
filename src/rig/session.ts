/**
 * What the orchestrator is given to drive a rig: capabilities only (docs/developer/conventions.md 5).
 * src/rig/open-rig.ts builds one from a rig file, for a real bench or the virtual rig;
 * machine tests build one from fakes.
 */
import type { Button } from '../devices/power/button.js';
import type { PowerChannel } from '../devices/power/power-channel.js';
import type { Capture } from '../devices/capture/capture.js';

export type FlightCondition = 'heartbeat' | 'armed' | 'disarmed' | 'landed' | { altitudeAbove: number };

/** The part of a MAVLink link the orchestrator uses (src/devices/flight implements it). */
export interface FlightControl {
  readonly name: string;
  command(
    name: string,
    params: Record<string, number | string>,
    opts: { timeoutMs: number; retries: number },
  ): Promise<{ result: string; statustext?: string }>;
  waitFor(cond: FlightCondition, timeoutMs: number): Promise<void>;
  setQuiet(quiet: boolean): void;
  stats(): unknown;
  close(): Promise<void>;
  /** The vehicle as last heard: mode, armed, altitude above home (absent: not heard yet). */
  telemetry?(): { mode?: string; armed?: boolean; altitudeM?: number };
  /** Timeline notes of the link (stream requests and arrivals, identity, transport faults). Returns unsubscribe. */
  onNote?(listener: (event: string, fields: Record<string, unknown>) => void): () => void;
}


export type { SentCanary } from '../analysis/canary.js';
import type { SentCanary } from '../analysis/canary.js';

export interface CanarySource {
  /** The per-run HMAC secret (revealed in the run directory only after the run). */
  readonly secret: string;
  /** Starts the senders' processes without sending (their start is slow: done while the captures start). */
  spawn?(): void;
  /** Sends the first round from every injection point (spawning first if needed). */
  start(): Promise<void>;
  /** One round from every injection point now (phase starts and ends). */
  round?(): Promise<void>;
  /** Ends the senders; resolves with how many canaries were sent, every one in the run directory's canaries.jsonl. */
  stop(): Promise<number>;
  /** Canaries that could not be sent, one line each. */
  errors?(): string[];
  /** How many canaries were sent and how many could not be, so far (the dashboard's canary health). */
  counts?(): { sent: number; failed: number };
  /** Calls `listener` with each canary as it is sent (the live canary health); returns unsubscribe. */
  onSent?(listener: (c: SentCanary) => void): () => void;
  /** Which capture names each injection point's canaries cross. */
  capturesFor(injector: string): string[];
  /** The injection points' names. */
  injectors?(): string[];
}

export interface RigSession {
  readonly power: ReadonlyMap<string, PowerChannel>;
  readonly buttons: ReadonlyMap<string, Button>;
  readonly links: ReadonlyMap<string, FlightControl>;
  /** Every capture: network, radio, Wi-Fi, BLE, power records. Started at preflight. */
  readonly captures: readonly Capture[];
  readonly canaries?: CanarySource;
  /** Checks every device answers and every interface exists; throws a RigFaultError if not. */
  preflight(): Promise<{ checks: string[]; floorsDbm?: Record<string, number> }>;
  /** `lab` steps: switch a lab service (virtual rig: the sinkhole's behaviour). */
  labService(service: 'uplink' | 'update-server', on: boolean): Promise<void>;
  /** `device` steps: send a named action to a device (virtual: a message to its firmware). */
  deviceAction(device: string, action: string): Promise<void>;
  /** `wait_for console`: resolves when a line of the device's console matches. */
  waitForConsole(device: string, pattern: RegExp, signal: AbortSignal): Promise<void>;
  /** Asks the technician (prompt steps, manual drivers); resolves on confirmation. */
  prompt(text: string, timeoutMs: number): Promise<void>;
  /** Release every port and tear down what the session built (the virtual lab). */
  close(): Promise<void>;
  /** Files the session wrote besides captures (sinkhole log, consoles), run-dir relative. */
  extraFiles(): string[];
}
