export { judgeRun, phaseWindows } from './judge.js';
export type { JudgeInput, Judgement } from './judge.js';
export { reanalyzeRun } from './reanalyze.js';
export type { Reanalysis } from './reanalyze.js';
