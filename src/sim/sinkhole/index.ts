export { readSinkholeLog } from './records.js';
export type { SinkholeRecord } from './records.js';
