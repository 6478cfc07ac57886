export { acquirePort, closeAllPorts, SharedPort } from './port-pool.js';
export type { PortIO, SerialSettings } from './port-pool.js';
export { SerialOpenError, SerialWriteError, SerialReadTimeout, SerialConfigError } from './errors.js';
