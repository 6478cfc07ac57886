/**
 * Pieces the supply and relay simulators share: an output that switches a SimLoad and measures
 * it (constant-voltage until the load wants more than the limit, then constant-current), a
 * plain resistor load for tests, and the fault modes tests inject into replies.
 */
import type { SimButtonContact, SimLoad } from './sim-load.js';

/** What a simulator does to its replies: garbage, nothing, half a reply, or a wrong checksum. */
export type SimFault = 'garbage' | 'silence' | 'half' | 'checksum' | null;

export type SimWiring = SimLoad | SimButtonContact;

export function isLoad(w: SimWiring | undefined): w is SimLoad {
  return !!w && typeof (w as SimLoad).amps === 'function';
}

export function isContact(w: SimWiring | undefined): w is SimButtonContact {
  return !!w && typeof (w as SimButtonContact).setClosed === 'function';
}

/** A resistor across the output: draws V/R while powered. */
export class ResistorLoad implements SimLoad {
  powered = false;
  constructor(readonly ohms: number) {}
  setPowered(on: boolean): void {
    this.powered = on;
  }
  amps(volts: number): number {
    return this.powered ? volts / this.ohms : 0;
  }
}

/** One programmable output of a simulated supply. */
export class SimSupplyOutput {
  volts = 0;
  amps = 0;
  on = false;
  constructor(readonly load?: SimLoad) {}

  setOutput(on: boolean): void {
    if (on === this.on) return;
    this.on = on;
    this.load?.setPowered(on);
  }

  measure(): { volts: number; amps: number } {
    if (!this.on) return { volts: 0, amps: 0 };
    const demand = Math.max(0, this.load?.amps(this.volts) ?? 0);
    if (demand > this.amps && demand > 0) return { volts: (this.volts * this.amps) / demand, amps: this.amps };
    return { volts: this.volts, amps: demand };
  }
}

/**
 * How many of the commands received a simulator keeps (its `received`, read by the tests): the
 * virtual rig's supplies are polled about ten times a second for hours, and a list of every
 * command grew their processes by about 40 bytes a command (docs/performance.md, soak).
 */
export const MAX_RECEIVED = 10_000;

/** Notes a command in a simulator's `received`, keeping the last `keep` (default MAX_RECEIVED). */
export function noteReceived(received: string[], cmd: string, keep = MAX_RECEIVED): void {
  received.push(cmd);
  while (received.length > keep) received.shift();
}

/** What every supply simulator is given (SCPI, Korad). */
export interface SupplySimOptions {
  channels: Record<number, SimWiring>;
  /** How many received commands `received` keeps (default MAX_RECEIVED). */
  keepReceived?: number;
  /** Number of outputs (default: the highest wired channel, at least 1). */
  outputs?: number;
  idn?: string;
  fault?: SimFault;
}

/** Outputs for every channel number up to `outputs` (default: the highest wired, at least 1); unwired ones get an open circuit. */
export function supplyOutputs(opts: Pick<SupplySimOptions, 'channels' | 'outputs'>): Map<number, SimSupplyOutput> {
  const { channels } = opts;
  const count = opts.outputs ?? Math.max(1, ...Object.keys(channels).map(Number));
  const out = new Map<number, SimSupplyOutput>();
  for (let ch = 1; ch <= count; ch++) {
    const w = channels[ch];
    out.set(ch, new SimSupplyOutput(isLoad(w) ? w : undefined));
  }
  return out;
}

/** The minimal stream a simulator talks over (a serialport SerialPort on the PTY's other end). */
export interface SimStream {
  on(event: 'data', cb: (chunk: Buffer) => void): unknown;
  write(data: Buffer | string): unknown;
}

export const GARBAGE = Buffer.from([0x3f, 0x23, 0xff, 0x15, 0x7e, 0x00]);
