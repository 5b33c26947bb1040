// Checks a new config against the running one on SIGHUP: refused transitions (errors) and restart-only changes.

import type { Config, DnssecState, ZoneConfig } from './types.js';

export interface ReloadDiff {
  /** Transitions that must be refused; the old config stays in force when any exist. */
  readonly errors: readonly string[];
  /** Accepted, but only take effect after a restart (or otherwise deserve the operator's attention). */
  readonly warnings: readonly string[];
}

/**
 * The DNSSEC state a zone is effectively in: no `dnssec:` block means unsigned, which is `deleted` (seed "DNSSEC
 * states": deleted = never enabled, or disabled and then deleted). Pre-signed zones have no state of ours.
 */
function effectiveState(z: ZoneConfig): DnssecState | 'presigned' {
  if (!z.dnssec) return 'deleted';
  return z.dnssec.mode === 'presigned' ? 'presigned' : z.dnssec.state;
}

/**
 * Seed "DNSSEC states": "you cannot transition directly from an active state to a deleted state. You can only
 * delete DNSSEC records once your zone DNSSEC is in a disabled state." So `deleted` is reachable only from
 * `disabled` (or by staying deleted); every other change is allowed. Returns the refusal reason, if any.
 */
export function dnssecTransitionError(from: DnssecState, to: DnssecState): string | undefined {
  if (to !== 'deleted' || from === 'deleted' || from === 'disabled') return undefined;
  const hint = from === 'pending-disabled'
    ? 'wait until the DS is gone from the parent, set state: disabled, reload, then delete'
    : 'set state: pending-disabled (or disabled once the parent DS is removed), reload, then delete';
  return `DNSSEC state ${from} -> deleted is not allowed; deleted may only follow disabled (${hint})`;
}

/** Full diff: refused transitions plus restart-needed and informational warnings. */
export function reloadDiff(old: Config, next: Config): ReloadDiff {
  const errors: string[] = [];
  const warnings: string[] = [];
  const listenText = (c: Config): string => c.listen.map((l) => l.text).join(', ');
  if (listenText(old) !== listenText(next)) {
    warnings.push(`listen: changed from [${listenText(old)}] to [${listenText(next)}]; needs restart`);
  }
  if (old.workers !== next.workers) warnings.push(`workers: changed from ${old.workers} to ${next.workers}; needs restart`);
  const tlsText = (c: Config): string => c.tls?.listen.map((l) => l.text).join(', ') ?? '';
  if (tlsText(old) !== tlsText(next)) warnings.push(`tls.listen: changed from [${tlsText(old)}] to [${tlsText(next)}]; needs restart (the certificate and key are re-read on every reload)`);
  const apiText = (c: Config): string => c.api.listen.map((l) => l.text).join(', ');
  if (apiText(old) !== apiText(next)) warnings.push(`api.listen: changed from [${apiText(old)}] to [${apiText(next)}]; needs restart`);
  if (old.udp.io !== next.udp.io) warnings.push(`udp.io: changed from ${old.udp.io} to ${next.udp.io}; needs restart`);
  const cookieText = (c: Config): string => JSON.stringify([c.cookies.require, ...[c.cookies.secret, c.cookies.previousSecret].map((x) => (x === undefined ? '' : Buffer.from(x).toString('hex')))]);
  if (cookieText(old) !== cookieText(next)) warnings.push('cookies: changed; needs restart');

  const nextByKey = new Map<string, { z: ZoneConfig; i: number }>();
  next.zones.forEach((z, i) => nextByKey.set(z.name.key, { z, i }));
  for (const oz of old.zones) {
    const hit = nextByKey.get(oz.name.key);
    const from = effectiveState(oz);
    if (!hit) {
      if (from !== 'deleted' && from !== 'presigned' && from !== 'disabled') {
        warnings.push(`zone ${oz.name.toString()} removed while its DNSSEC state was ${from}; resolvers still holding its DS will fail`);
      }
      continue;
    }
    const to = effectiveState(hit.z);
    if (from === 'presigned' || to === 'presigned') continue;
    const err = dnssecTransitionError(from, to);
    if (err) errors.push(`zones[${hit.i}].dnssec.state: ${err}`);
  }
  return { errors, warnings };
}

/** Errors for forbidden reload transitions (empty = the reload may proceed). Warnings: see `reloadDiff`. */
export function diffConfigForReload(old: Config, next: Config): string[] {
  return [...reloadDiff(old, next).errors];
}
