/** The power seam: registries, the driver context, the power record. The simulators of these devices are the virtual rig's, in src/sim/instruments/. */
export type { PowerChannel, PowerReading, ProgrammablePowerChannel } from './power-channel.js';
export type { Button } from './button.js';
export type { DriverContext } from './context.js';
export { powerDrivers, buttonDrivers } from './registry.js';
export { cyclePower } from './base.js';
export { POWER_CODES, PowerFaultError, PowerConfigError } from './errors.js';
export type { PowerFaultCode } from './errors.js';
export { PowerRecorder, POWER_CSV_HEADER, powerCsvName } from './recorder.js';
export type { PowerRecorderOptions } from './recorder.js';
export { pressTimings, describePattern } from './press-pattern.js';
export { closeAllPorts } from '../serial/index.js';
