import type pino from 'pino';

/** What the registry hands every power and button driver. */
export interface DriverContext {
  log: pino.Logger;
  /** Maps `sim:NAME` to the PTY path of the virtual rig's simulator; identity otherwise. */
  resolvePort(port: string): string;
  /** Ask the technician; resolves when confirmed, rejects (or never resolves) otherwise. */
  prompt(text: string, timeoutMs: number): Promise<void>;
}
