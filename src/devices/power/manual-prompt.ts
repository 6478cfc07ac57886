/** Ask the technician; no confirmation within the timeout is a rig fault. */
import type { DriverContext } from './context.js';
import { POWER_CODES, PowerFaultError } from './errors.js';

export async function askTechnician(
  ctx: DriverContext,
  device: string,
  command: string,
  text: string,
  timeoutMs: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PowerFaultError(POWER_CODES.manualTimeout, device, command, `no confirmation within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([
      ctx.prompt(text, timeoutMs).catch((err: unknown) => {
        throw new PowerFaultError(POWER_CODES.manualTimeout, device, command, `not confirmed: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
