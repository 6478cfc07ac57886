/** The power capability (docs/developer/conventions.md 1): all the orchestrator knows of a supply or relay. */

export interface PowerReading {
  /** Output enabled, as the device reports it. */
  on: boolean;
  /** Measured volts and amps; null where the device cannot measure (relays, manual). */
  volts: number | null;
  amps: number | null;
}

export interface PowerChannel {
  /** The channel's name in the rig file. */
  readonly name: string;
  /** Set limits (where programmable), read them back, then enable the output. */
  on(): Promise<void>;
  off(): Promise<void>;
  read(): Promise<PowerReading>;
  /** Release the port. Never switches the output. */
  close(): Promise<void>;
  /** The device's own identification (`*IDN?`, device info), for preflight; absent where there is none. */
  identify?(): Promise<string>;
}

export interface ProgrammablePowerChannel extends PowerChannel {
  /** Program voltage and current limit and read them back; a mismatch is a rig fault. */
  setLimits(volts: number, amps: number): Promise<void>;
}
