/** Errors of the dashboard (src/cli maps the category to exit code 2). */
import { InputError } from '../errors.js';

/** A bind address other than loopback, a port taken or out of range, a run directory without an event stream. */
export class DashboardError extends InputError {
  constructor(
    code: 'AIRLOCK_DASHBOARD_BIND' | 'AIRLOCK_DASHBOARD_PORT' | 'AIRLOCK_DASHBOARD_NO_EVENTS',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
