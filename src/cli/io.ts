/**
 * What a command writes to. Commands are plain functions `(options, io) => Promise<exitCode>`
 * so tests call them without spawning a process; src/cli/main.ts binds io to the real streams.
 */
export interface CommandIO {
  /** Standard output: results (paths, JSON documents, reports). */
  out(text: string): void;
  /** Standard error: messages for a person. */
  err(text: string): void;
  /** True when stdout is a terminal (colour, progress display). */
  readonly tty: boolean;
}

export function processIO(): CommandIO {
  return {
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
    err: (t) => process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
    tty: Boolean(process.stdout.isTTY),
  };
}

/** An io that keeps everything, for tests. */
export function memoryIO(): CommandIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => void stdout.push(t), err: (t) => void stderr.push(t), tty: false };
}
