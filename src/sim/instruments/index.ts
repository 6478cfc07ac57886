/** The virtual rig's instruments: simulators of the power supplies, relay boards and network power switch, written from their manuals. */
export type { SimLoad, SimButtonContact } from './sim-load.js';
export { ResistorLoad } from './sim-support.js';
export type { SimFault, SimWiring } from './sim-support.js';
import { ScpiSim } from './scpi.sim.js';
import { KoradSim } from './korad.sim.js';
import { LcusSim } from './lcus.sim.js';
import { NetSwitchSim } from './netswitch.sim.js';
export { ScpiSim, KoradSim, LcusSim, NetSwitchSim };

/** Simulator classes by model (serial ones take a stream; netswitch serves HTTP). */
export const powerSimulators = { scpi: ScpiSim, korad: KoradSim, lcus: LcusSim, netswitch: NetSwitchSim } as const;
