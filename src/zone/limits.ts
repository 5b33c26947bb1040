// Caps on what one zone may hold, against a hostile zone file or transfer: records, RRset size, bytes, $INCLUDE depth.

export interface ZoneLimits {
  /** Records in the zone (zone file incl. $GENERATE output, or a transfer). */
  readonly maxRecords: number;
  /** Records in one RRset (one owner name and type). */
  readonly maxRrset: number;
  /** Bytes of the zone file and everything it includes; for a transfer, bytes of its DNS messages. */
  readonly maxFileSize: number;
  /** Levels of nested $INCLUDE (the main file is level 0). */
  readonly maxIncludeDepth: number;
}

/**
 * Defaults that no real zone reaches: 10 million records; 1000 records in an RRset (ten times BIND's
 * max-records-per-type default of 100, and 1000 A records still fit one 64 KiB TCP message); 512 MiB of zone text
 * (V8 cannot hold one file larger than that as a string anyway); 10 nested $INCLUDEs.
 */
export const DEFAULT_ZONE_LIMITS: ZoneLimits = Object.freeze({
  maxRecords: 10_000_000,
  maxRrset: 1000,
  maxFileSize: 512 * 1024 * 1024,
  maxIncludeDepth: 10,
});

/** A human-readable byte count for messages ("512 MiB", "1500 bytes"). */
export function byteText(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
