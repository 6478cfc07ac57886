/** The power seam: registries, the driver context, the power record, simulators (explicit list). */
export type { PowerChannel, PowerReading, ProgrammablePowerChannel } from './power-channel.js';
export type { Button } from './button.js';
export type { SimLoad, SimButtonContact } from './sim-load.js';
export type { DriverContext } from './context.js';
export { powerDrivers, buttonDrivers } from './registry.js';
export { cyclePower } from './base.js';
export { POWER_CODES, PowerFaultError, PowerConfigError } from './errors.js';
export type { PowerFaultCode } from './errors.js';
export { PowerRecorder, POWER_CSV_HEADER, powerCsvName } from './recorder.js';
export type { PowerRecorderOptions } from './recorder.js';
export { pressTimings, describePattern } from './press-pattern.js';
export { closeAllPorts } from '../serial/index.js';
export { ResistorLoad } from './sim-support.js';
export type { SimFault, SimWiring } from './sim-support.js';

import { ScpiSim } from './scpi.sim.js';
import { KoradSim } from './korad.sim.js';
import { LcusSim } from './lcus.sim.js';
import { NetSwitchSim } from './netswitch.sim.js';
export { ScpiSim, KoradSim, LcusSim, NetSwitchSim };

/** Simulator classes by model (serial ones take a stream; netswitch serves HTTP). */
export const powerSimulators = { scpi: ScpiSim, korad: KoradSim, lcus: LcusSim, netswitch: NetSwitchSim } as const;
