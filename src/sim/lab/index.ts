export { VirtualLab, cleanupStale, layoutLab, netnsName, SINKHOLE_TCP_PORT, SINKHOLE_UDP_PORT, AIR_MAC } from './virtual-lab.js';
export type { LabHost, LabLayout, LabUpOptions } from './virtual-lab.js';
export { LabError, LabConfigError } from './errors.js';
export { readSinkholeLog } from '../../analysis/sinkhole-log.js';
export type { SinkholeRecord } from '../../analysis/sinkhole-log.js';
