/**
 * What a simulated supply or relay is wired to on the virtual rig. The simulators only
 * switch and measure; what draws the current is the load (the firmware host, which derives
 * its draw from the firmware processes' real state). No simulator reads a "leaky" flag.
 */
export interface SimLoad {
  /** The channel's output was switched on or off (off is a hard power cut). */
  setPowered(on: boolean): void;
  /** Current drawn now, in amperes, at the given output voltage. */
  amps(volts: number): number;
}

/** A relay contact wired across a device's power button. */
export interface SimButtonContact {
  setClosed(closed: boolean): void;
}
