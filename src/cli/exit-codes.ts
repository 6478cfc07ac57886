/** Exit codes of every command (docs/technician/errors-and-exit-codes.md). */
export const EXIT = {
  pass: 0,
  finding: 1,
  usage: 2,
  inconclusive: 3,
  rigFault: 4,
} as const;
