// Logging helpers for the transports: a silent default logger and rate-limited error reporting (no log floods).

import pino from 'pino';

/** Logger used when the caller gives none. */
export const silentLogger: pino.Logger = pino({ enabled: false });

/**
 * Logs at most one line per `intervalMs` for a recurring error; the next line reports how many were suppressed.
 * Handler errors can be triggered remotely, so they must never be able to flood the log.
 */
export class RateLimitedLog {
  private last = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: pino.Logger,
    private readonly what: string,
    private readonly intervalMs = 1000,
  ) {}

  error(err: unknown, extra?: Readonly<Record<string, string | number>>): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.last = now;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    this.logger.error({ err, suppressed, ...extra }, this.what);
  }
}
