// Signing throughput of src/dnssec (console output, not a pass/fail threshold): signatures per second on one core.

import { sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compactNxdomainNsec } from '../../src/dnssec/nsec.js';
import { canonicalRRset } from '../../src/dnssec/canonical.js';
import { generateKey } from '../../src/dnssec/keys.js';
import { signCanonical, signRRset, verifyRRsig } from '../../src/dnssec/rrsig.js';
import { RRType } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';

/** Operations per second of this process's CPU time (user + system), so other load on the box matters less. */
function rate(ms: number, fn: (i: number) => void): number {
  for (let i = 0; i < 200; i++) fn(i); // warm-up
  const end = performance.now() + ms;
  const cpu0 = process.cpuUsage();
  let n = 0;
  while (performance.now() < end) {
    for (let j = 0; j < 100; j++) fn(n++);
  }
  const cpu = process.cpuUsage(cpu0);
  return Math.round(n / ((cpu.user + cpu.system) / 1e6));
}

describe('signing throughput', () => {
  const zone = Name.parse('example.com.');
  const zsk = generateKey(zone, 'zsk');
  const rrset = { owner: Name.parse('www.example.com.'), type: RRType.A, class: 1, ttl: 300, rdata: [new Uint8Array([192, 0, 2, 1])] };

  it('signRRset / signCanonical / compact NXDOMAIN NSEC per second', () => {
    const set = canonicalRRset(rrset);
    let last: Uint8Array = new Uint8Array(0);
    const full = rate(700, () => {
      last = signRRset(rrset, zsk, zone, 1_800_000_000, 1_800_600_000);
    });
    expect(verifyRRsig(rrset, last, zsk.dnskeyRdata)).toBe(true);
    const prepared = rate(700, () => {
      last = signCanonical(set, zsk, zone, 1_800_000_000, 1_800_600_000);
    });
    expect(verifyRRsig(rrset, last, zsk.dnskeyRdata)).toBe(true);
    const nx = rate(700, (i) => {
      const q = zone.child(`r${i}x9q`);
      const s = canonicalRRset({ owner: q, type: RRType.NSEC, class: 1, ttl: 300, rdata: [compactNxdomainNsec(q)] });
      last = signCanonical(s, zsk, zone, 1_800_000_000, 1_800_600_000);
    });
    const data = Buffer.alloc(18 + 13 + set.body.length, 7);
    const raw = rate(700, () => {
      sign('sha256', data, { key: zsk.privateKey, dsaEncoding: 'ieee-p1363' });
    });
    console.log(`[dnssec bench] raw crypto.sign ${raw}/s, signRRset ${full}/s, signCanonical (prepared) ${prepared}/s, compact NXDOMAIN NSEC build+sign ${nx}/s (per CPU-second, ECDSA P-256 via node:crypto)`);
    expect(full).toBeGreaterThan(0);
  });
});
