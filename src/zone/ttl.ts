// TTL / time-interval text parsing shared by the zone parser, SOA timers and the config: `3600`, `1h30m`, `2W`.

/** Largest TTL a record may carry (RFC 2181 §8: TTLs are unsigned 31-bit values). */
export const MAX_TTL = 0x7fffffff;

/** Largest value `parseTtl` returns: TTL and SOA timer fields are 32-bit on the wire (RFC 1035 §3.2.1, §3.3.13). */
export const MAX_UINT32 = 0xffffffff;

/** "Auto" TTL as written in Cloudflare exports (seed: TTL `1` means Auto = 300 s). */
export const AUTO_TTL_MARKER = 1;
export const AUTO_TTL_SECONDS = 300;

// Multipliers for the BIND unit suffixes (case-insensitive): seconds, minutes, hours, days, weeks.
function unitSeconds(code: number): number {
  switch (code | 0x20) {
    case 0x73: // s
      return 1;
    case 0x6d: // m
      return 60;
    case 0x68: // h
      return 3600;
    case 0x64: // d
      return 86400;
    case 0x77: // w
      return 604800;
    default:
      return 0;
  }
}

/**
 * Parse a TTL: plain seconds (`300`) or BIND unit form (`1h30m`, `2w`, `1D`; units may repeat and are summed, as
 * BIND does; once a unit is used every number needs one, so `1h30` is rejected like BIND). Returns undefined for
 * anything else or values above 2^32-1. Callers enforce MAX_TTL (RFC 2181 §8) where it applies.
 */
export function parseTtl(text: string): number | undefined {
  const n = text.length;
  if (n === 0 || n > 64) return undefined;
  let total = 0;
  let cur = -1; // -1: no digits in the current group yet
  let sawUnit = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      cur = (cur < 0 ? 0 : cur) * 10 + (c - 0x30);
      if (cur > MAX_UINT32) return undefined;
      continue;
    }
    const mult = unitSeconds(c);
    if (mult === 0 || cur < 0) return undefined;
    total += cur * mult;
    if (total > MAX_UINT32) return undefined;
    cur = -1;
    sawUnit = true;
  }
  if (cur >= 0) {
    if (sawUnit) return undefined;
    return cur;
  }
  return total;
}
