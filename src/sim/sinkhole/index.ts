export { readSinkholeLog } from '../../analysis/sinkhole-log.js';
export type { SinkholeRecord } from '../../analysis/sinkhole-log.js';
