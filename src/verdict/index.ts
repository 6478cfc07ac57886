export { judgeRun, judgeCaptures, RunJudge, runVerdict, networkFiles, partTailFromMs } from './engine.js';
export type { JudgeInput, Judgement, CapturesJudgement } from './engine.js';
export { coverageWindows, windowIndexAt } from './coverage.js';
export type { CoverageWindow, CoverageKind, RunTimes } from './coverage.js';
export { reanalyzeRun } from './reanalyze.js';
export type { Reanalysis } from './reanalyze.js';
export { LiveAnalyzer } from './live.js';
export type { LiveFinding, LiveOptions, LiveState, LiveTimes } from './live.js';
