/** The run record's types live with the verdict engine that fills them (src/verdict/result.ts); evidence writes them out. */
export type { PhaseVerdict, AssertionResult, PhaseResult, CaptureLossEntry, WindowResult, CaptureRecord, FirmwareRecord, RunResult } from '../verdict/result.js';
