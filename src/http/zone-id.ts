// Zone identifiers of the HTTP API: 32 hex characters, stable across restarts and identical in every process.

import { createHash } from 'node:crypto';

/** A zone name as the API shows it: lower case, without the trailing dot (the root stays "."). */
export function apiZoneName(name: string): string {
  const n = name.toLowerCase();
  return n.length > 1 && n.endsWith('.') ? n.slice(0, -1) : n;
}

/**
 * The zone_id of a zone: the first 32 hex digits of SHA-256 over its API name (apiZoneName). Derived rather than
 * stored, so every worker and the primary agree without coordination; the API issue may later keep ids under
 * state-dir, and then this is the one function to change.
 */
export function zoneId(name: string): string {
  return createHash('sha256').update(apiZoneName(name)).digest('hex').slice(0, 32);
}

/** The zone a `:zone_id` path parameter names: a zone_id, or the zone name itself; undefined when none. */
export function resolveZoneParam(param: string, zones: readonly string[]): string | undefined {
  const p = param.toLowerCase();
  for (const z of zones) {
    const name = apiZoneName(z);
    if (name === apiZoneName(p) || (p.length === 32 && zoneId(name) === p)) return name;
  }
  return undefined;
}
