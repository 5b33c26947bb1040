// Offline DNSSEC signing of test zone copies with BIND's dnssec-keygen + dnssec-signzone (one ED25519 key per zone
// signing everything, NSEC or NSEC3 denial, fixed inception/expiry), so several servers serve the same presigned file.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ZoneSpec } from './knot.js';
import { toolPath, tool } from './tools.js';

/** Fixed signature validity (RFC 4034 §3.1.5: 32-bit serial-arithmetic times, so the expiry stays within 68 years). */
export const SIG_INCEPTION = '20250101000000';
export const SIG_EXPIRATION = '20600101000000';

export interface SignOptions {
  /** NSEC3 denial (RFC 5155) with no salt and 0 extra iterations (RFC 9276 §3.1) instead of NSEC. */
  readonly nsec3?: boolean;
  /** With nsec3: opt-out (RFC 5155 §6), insecure delegations get no NSEC3 of their own. */
  readonly optOut?: boolean;
}

/**
 * Sign a copy of each zone into `dir`; returns the specs of the signed files (same zone names). The key is a
 * single KSK-flagged key used for all RRsets (-z), the signed file is written one record per line (-O full).
 */
export function signZones(zones: readonly ZoneSpec[], dir: string, o: SignOptions = {}): ZoneSpec[] {
  const keygen = toolPath(tool('dnssec-keygen'));
  const signzone = toolPath(tool('dnssec-signzone'));
  return zones.map((z) => {
    const origin = z.name.replace(/\.$/, '') + '.';
    const base = execFileSync(keygen, ['-q', '-a', 'ED25519', '-f', 'KSK', '-K', dir, origin], { encoding: 'utf8' }).trim();
    const tag = o.nsec3 === true ? (o.optOut === true ? 'optout.' : 'nsec3.') : '';
    const input = join(dir, `${origin}${tag}in`);
    const text = readFileSync(z.file, 'utf8');
    writeFileSync(input, `${text}${text.endsWith('\n') ? '' : '\n'}$INCLUDE ${join(dir, `${base}.key`)}\n`);
    const out = join(dir, `${origin}${tag}signed`);
    const denial = o.nsec3 === true ? ['-3', '-', '-H', '0', ...(o.optOut === true ? ['-A'] : [])] : [];
    execFileSync(signzone, ['-q', '-z', '-O', 'full', ...denial, '-o', origin, '-s', SIG_INCEPTION, '-e', SIG_EXPIRATION, '-K', dir, '-d', dir, '-f', out, input, join(dir, base)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { name: z.name, file: out };
  });
}
