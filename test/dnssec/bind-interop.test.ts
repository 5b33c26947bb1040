// BIND interop for src/dnssec: dnssec-keygen keys load, dnssec-dsfromkey agrees, dnssec-signzone uses our keys.

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dsText } from '../../src/dnssec/ds.js';
import { generateKey, keyTag, loadKeys, parseTimestamp, writeKey } from '../../src/dnssec/keys.js';
import { parseRrsig, rrsigPrefix, signRRset, verifyRRsig } from '../../src/dnssec/rrsig.js';
import { RRType } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { tool } from '../helpers/tools.js';
import { hex } from './vectors.js';

const keygen = tool('dnssec-keygen');
const dsfromkey = tool('dnssec-dsfromkey');
const signzone = tool('dnssec-signzone');
const verifyzone = tool('dnssec-verify');
const p = (t: ReturnType<typeof tool>): string => ('path' in t ? t.path : '');

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apexdns-bind-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf('skip' in keygen)('keys made by dnssec-keygen', () => {
  it('load unchanged: same tag, flags and DNSKEY as the .key file; signatures verify', async () => {
    const kd = join(dir, 'keygen');
    execFileSync('mkdir', ['-p', kd]);
    const zsk = execFileSync(p(keygen), ['-K', kd, '-a', 'ECDSAP256SHA256', '-n', 'ZONE', 'Example.COM'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const ksk = execFileSync(p(keygen), ['-K', kd, '-a', 'ECDSAP256SHA256', '-f', 'KSK', '-n', 'ZONE', 'example.com'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const zone = Name.parse('example.com.');
    const warnings: string[] = [];
    const keys = await loadKeys(kd, zone, warnings);
    expect(warnings).toEqual([]);
    expect(keys.length).toBe(2);
    for (const [base, role, flags] of [[zsk, 'zsk', 256], [ksk, 'ksk', 257]] as const) {
      const tag = Number(/\+(\d{5})$/.exec(base)![1]);
      const k = keys.find((x) => x.tag === tag);
      expect(k).toBeDefined();
      expect(k!.role).toBe(role);
      expect(k!.flags).toBe(flags);
      expect(k!.file).toBe(join(kd, `${base}.key`));
      const line = (await readFile(join(kd, `${base}.key`), 'utf8')).trim().split('\n').pop()!;
      const m = /IN DNSKEY (\d+) 3 13 (.+)$/.exec(line)!;
      expect(Number(m[1])).toBe(flags);
      const rdata = new Uint8Array([flags >> 8, flags & 0xff, 3, 13, ...Buffer.from(m[2]!.replace(/ /g, ''), 'base64')]);
      expect(Buffer.from(k!.dnskeyRdata).toString('hex')).toBe(Buffer.from(rdata).toString('hex'));
      expect(keyTag(rdata)).toBe(tag);
      const rrset = { owner: Name.parse('www.example.com.'), type: RRType.A, class: 1, ttl: 300, rdata: [hex('c0000201')] };
      const sig = signRRset(rrset, k!, zone, 1_800_000_000, 1_800_600_000);
      expect(parseRrsig(sig).keyTag).toBe(tag);
      expect(verifyRRsig(rrset, sig, rdata)).toBe(true);
    }
  });
});

describe.skipIf('skip' in dsfromkey)('dnssec-dsfromkey on our key files', () => {
  it('prints the DS lines dsText prints (SHA-1, SHA-256, SHA-384)', async () => {
    const kd = join(dir, 'ours');
    for (const zoneText of ['example.org.', 'Mixed.Case.Example.']) {
      const zone = Name.parse(zoneText);
      for (const role of ['ksk', 'zsk'] as const) {
        const k = await writeKey(kd, zone, generateKey(zone, role));
        const run = (args: string[]): string =>
          execFileSync(p(dsfromkey), [...args, k.file!], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
        expect(run(['-2'])).toBe(dsText(zone, k.dnskeyRdata, 2));
        expect(run(['-a', 'SHA-384'])).toBe(dsText(zone, k.dnskeyRdata, 4));
        expect(run(['-1'])).toBe(dsText(zone, k.dnskeyRdata, 1));
        expect(run(['-T', '3600', '-2'])).toBe(dsText(zone, k.dnskeyRdata, 2, { ttl: 3600 }));
      }
    }
  });
});

describe.skipIf('skip' in signzone || 'skip' in verifyzone)('dnssec-signzone with our keys', () => {
  it('signs a zone with our KSK/ZSK and dnssec-verify accepts it', async () => {
    const kd = join(dir, 'signzone');
    const zone = Name.parse('signed.example.');
    const ksk = await writeKey(kd, zone, generateKey(zone, 'ksk'));
    const zsk = await writeKey(kd, zone, generateKey(zone, 'zsk'));
    const zf = join(kd, 'zone.db');
    await writeFile(zf, '$TTL 3600\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\nwww IN A 192.0.2.2\n');
    const out = join(kd, 'zone.signed');
    execFileSync(p(signzone), ['-S', '-K', kd, '-o', 'signed.example.', '-f', out, zf], { stdio: 'ignore' });
    const signed = (await readFile(out, 'utf8')).replace(/[()]/g, ' ').replace(/\s+/g, ' ');
    const b64 = (k: typeof ksk): string => Buffer.from(k.publicKey).toString('base64');
    expect(signed.replace(/ /g, '')).toContain(b64(ksk));
    expect(signed.replace(/ /g, '')).toContain(b64(zsk));
    expect(new RegExp(`RRSIG DNSKEY 13 2 3600 \\d+ \\d+ ${ksk.tag} signed\\.example\\.`).test(signed)).toBe(true);
    expect(new RegExp(`RRSIG SOA 13 2 3600 \\d+ \\d+ ${zsk.tag} signed\\.example\\.`).test(signed)).toBe(true);
    execFileSync(p(verifyzone), ['-o', 'signed.example.', out], { stdio: 'ignore' }); // throws on failure

    // And the other way round: BIND's RRSIGs over NS and SOA (names inside RDATA) verify with our canonical form.
    const ns1 = Name.parse('ns1.signed.example.').toWire();
    const soa = new Uint8Array([...ns1, ...Name.parse('hostmaster.signed.example.').toWire(), 0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0, 0, 2, 0x58, 0, 1, 0x51, 0x80, 0, 0, 1, 0x2c]);
    for (const [type, mnemonic, rdata] of [[RRType.NS, 'NS', ns1], [RRType.SOA, 'SOA', soa]] as const) {
      const m = new RegExp(`RRSIG ${mnemonic} 13 2 3600 (\\d{14}) (\\d{14}) (\\d+) signed\\.example\\. ((?:[A-Za-z0-9+/=]+ ?)+)`).exec(signed)!;
      const sigB64 = m[4]!.replace(/ /g, '').slice(0, 88);
      const exp = parseTimestamp(m[1]!)!.getTime() / 1000;
      const inc = parseTimestamp(m[2]!)!.getTime() / 1000;
      const rrsig = new Uint8Array([...rrsigPrefix(type, 13, 2, 3600, exp, inc, Number(m[3]), zone), ...Buffer.from(sigB64, 'base64')]);
      const rrset = { owner: zone, type, class: 1, ttl: 3600, rdata: [rdata] };
      expect(verifyRRsig(rrset, rrsig, zsk.dnskeyRdata)).toBe(true);
    }
  });
});
