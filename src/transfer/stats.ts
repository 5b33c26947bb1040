// Per-process transfer counters for metrics: zone transfers served and received, NOTIFY sent and received.

export const transferStats = {
  /** AXFR answered (also IXFR answered with the full zone, RFC 1995 §4). */
  axfrOut: 0,
  /** IXFR answered with changesets. */
  ixfrOut: 0,
  axfrIn: 0,
  ixfrIn: 0,
  /** Refreshes where every primary failed. */
  refreshFailed: 0,
  /** NOTIFY acknowledged by a peer, and NOTIFY given up after the retries. */
  notifySent: 0,
  notifyFailed: 0,
  notifyReceived: 0,
};

/** What a secondary zone reports about its refreshes (metrics). */
export type SecondaryStatus = {
  readonly zone: string;
  readonly serial: number;
  /** Unix seconds of the last refresh attempt (0: none yet) and whether it succeeded. */
  readonly lastRefresh: number;
  readonly lastRefreshOk: 0 | 1;
  /** Seconds until the zone expires without a successful refresh (SOA EXPIRE); 0 once expired. */
  readonly expiresIn: number;
};
