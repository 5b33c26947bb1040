// Signing budget: a token bucket of one-off signatures per second (random-subdomain floods on live-signed zones).

/**
 * One-off signatures are the ones a flood can make without bound: compact-denial NSECs and NSEC3 covers for
 * nonexistent names, and compact wildcard expansions (one per query name, never cached). Everything else a zone
 * signs is finite (its RRsets and chain records) and lives in the signature cache. The bucket holds at most one
 * second's worth of tokens; each serving process has its own, as each has its own core.
 */
export class SigningBudget {
  private tokens: number;
  private last: number;
  /** One-off signatures refused since start. */
  refused = 0;

  constructor(readonly perSecond: number, nowMs: number = Date.now()) {
    this.tokens = perSecond;
    this.last = nowMs;
  }

  /** Take one token; false when the budget of the current second is spent. */
  take(nowMs: number = Date.now()): boolean {
    if (nowMs > this.last) {
      this.tokens = Math.min(this.perSecond, this.tokens + ((nowMs - this.last) * this.perSecond) / 1000);
      this.last = nowMs;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.refused++;
    return false;
  }
}
