// Tests for src/dnssec/keys.ts: key tags, RFC 6605 key import, BIND key file writing/loading, ensureKeys.

import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  activeKeys, ensureKeys, formatTimestamp, isActive, generateKey, keyFileBase, keyFileText, keyFileZone, keyFromFiles, keyTag, loadKeys,
  parseTimestamp, privateFileText, writeKey,
} from '../../src/dnssec/keys.js';
import { Name } from '../../src/wire/name.js';
import {
  RFC4034_DNSKEY_B64, RFC4034_TAG, RFC6605_DNSKEY_B64, RFC6605_P384_DNSKEY_B64, RFC6605_P384_TAG, RFC6605_PRIVATE,
  RFC6605_TAG, b64, dnskey, toHex,
} from './vectors.js';

const exampleNet = Name.parse('example.net.');
const exampleCom = Name.parse('example.com.');

describe('keyTag (RFC 4034 Appendix B)', () => {
  it('matches the RFC 4034 §5.4 RSA/SHA-1 example (60485)', () => {
    expect(keyTag(dnskey(256, 5, RFC4034_DNSKEY_B64))).toBe(RFC4034_TAG);
  });
  it('matches the RFC 6605 P-256 (55648) and P-384 (10771) examples', () => {
    expect(keyTag(dnskey(257, 13, RFC6605_DNSKEY_B64))).toBe(RFC6605_TAG);
    expect(keyTag(dnskey(257, 14, RFC6605_P384_DNSKEY_B64))).toBe(RFC6605_P384_TAG);
  });
  it('uses the modulus low bits for algorithm 1 (Appendix B.1)', () => {
    expect(keyTag(new Uint8Array([1, 0, 3, 1, 9, 9, 0xab, 0xcd, 0xef]))).toBe(0xabcd);
  });
});

describe('RFC 6605 §6.1 key files', () => {
  const keyText = `; comment\nexample.net. 3600 IN DNSKEY 257 3 13 (\n  GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edb\n  krSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA== )\n`;
  const privText = `Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: ${RFC6605_PRIVATE}\n`;

  it('derives the published DNSKEY from the published private key', () => {
    const k = keyFromFiles(exampleNet, keyText, privText);
    expect(k.role).toBe('ksk');
    expect(k.flags).toBe(257);
    expect(k.tag).toBe(55648);
    expect(Buffer.from(k.publicKey).toString('base64')).toBe(RFC6605_DNSKEY_B64);
    expect(toHex(k.dnskeyRdata)).toBe(toHex(dnskey(257, 13, RFC6605_DNSKEY_B64)));
    expect(k.privateKey.asymmetricKeyType).toBe('ec');
  });

  it('rejects a private key that does not match the .key file', () => {
    const other = Buffer.alloc(32, 7).toString('base64');
    expect(() => keyFromFiles(exampleNet, keyText, privText.replace(RFC6605_PRIVATE, other))).toThrow(/does not match/);
  });

  it('rejects a key file for another zone', () => {
    expect(() => keyFromFiles(exampleCom, keyText, privText)).toThrow(/example\.net\., not example\.com\./);
  });

  it('round-trips the private scalar through the v1.3 .private text', () => {
    const k = keyFromFiles(exampleNet, keyText, privText);
    expect(privateFileText(k)).toContain(`PrivateKey: ${RFC6605_PRIVATE}\n`);
    expect(privateFileText(k).startsWith('Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\n')).toBe(true);
  });
});

describe('file names and timestamps', () => {
  it('lowercases and escapes like dnssec-keygen', () => {
    expect(keyFileZone(Name.parse('Example.COM.'))).toBe('example.com');
    expect(keyFileZone(Name.parse('a/b_c.x$y.example.'))).toBe('a%2Fb_c.x%24y.example');
    expect(keyFileBase(Name.parse('Example.COM.'), 13, 5132)).toBe('Kexample.com.+013+05132');
    expect(keyFileBase(Name.root, 13, 20546)).toBe('K.+013+20546');
  });
  it('formats and parses YYYYMMDDHHMMSS in UTC', () => {
    const d = new Date(Date.UTC(2026, 10, 27, 13, 23, 30));
    expect(formatTimestamp(d)).toBe('20261127132330');
    expect(parseTimestamp('20261127132330')?.getTime()).toBe(d.getTime());
    expect(parseTimestamp('2026112713233')).toBeUndefined();
  });
  it('writes the .key text as BIND does', () => {
    const k = keyFromFiles(
      exampleNet,
      `example.net. IN DNSKEY 257 3 13 ${RFC6605_DNSKEY_B64}`,
      `Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: ${RFC6605_PRIVATE}\nCreated: 20261127132330\n`,
    );
    expect(keyFileText(exampleNet, k)).toBe(
      '; This is a key-signing key, keyid 55648, for example.net.\n' +
        '; Created: 20261127132330 (Fri Nov 27 13:23:30 2026)\n' +
        '; Publish: 20261127132330 (Fri Nov 27 13:23:30 2026)\n' +
        '; Activate: 20261127132330 (Fri Nov 27 13:23:30 2026)\n' +
        `example.net. IN DNSKEY 257 3 13 ${RFC6605_DNSKEY_B64}\n`,
    );
  });
});

describe('generate / write / load', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apexdns-keys-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generates P-256 keys with the right flags and a 64-octet key', () => {
    const ksk = generateKey(exampleCom, 'ksk');
    const zsk = generateKey(exampleCom, 'zsk');
    expect([ksk.flags, zsk.flags]).toEqual([257, 256]);
    expect(ksk.publicKey.length).toBe(64);
    expect(ksk.dnskeyRdata.length).toBe(68);
    expect(toHex(ksk.dnskeyRdata.subarray(0, 4))).toBe('0101030d');
    expect(ksk.tag).toBe(keyTag(ksk.dnskeyRdata));
  });

  it('writes atomically with 0600 .private and loads the same key back', async () => {
    const k = generateKey(exampleCom, 'zsk');
    const written = await writeKey(dir, exampleCom, k);
    const base = keyFileBase(exampleCom, 13, k.tag);
    expect(written.file).toBe(join(dir, `${base}.key`));
    expect((await readdir(dir)).sort()).toEqual([`${base}.key`, `${base}.private`]);
    expect((await stat(join(dir, `${base}.private`))).mode & 0o777).toBe(0o600);
    const loaded = await loadKeys(dir, Name.parse('EXAMPLE.com.'));
    expect(loaded.length).toBe(1);
    expect(loaded[0]!.tag).toBe(k.tag);
    expect(loaded[0]!.role).toBe('zsk');
    expect(toHex(loaded[0]!.dnskeyRdata)).toBe(toHex(k.dnskeyRdata));
    expect(loaded[0]!.created.getTime()).toBe(k.created.getTime());
    expect(loaded[0]!.timing?.activate?.getTime()).toBe(k.created.getTime());
  });

  it('ignores other algorithms and other zones, with a warning for the algorithm', async () => {
    await writeFile(join(dir, 'Kexample.com.+008+12345.key'), 'example.com. IN DNSKEY 256 3 8 AwEAAQ==\n');
    await writeFile(join(dir, 'Kexample.com.+008+12345.private'), 'Private-key-format: v1.3\nAlgorithm: 8 (RSASHA256)\n');
    await writeKey(dir, Name.parse('sub.example.com.'), generateKey(exampleCom, 'zsk'));
    const warnings: string[] = [];
    expect(await loadKeys(dir, exampleCom, warnings)).toEqual([]);
    expect(warnings).toEqual(['Kexample.com.+008+12345.key: algorithm 8 is not supported (only 13, ECDSAP256SHA256); ignored']);
  });

  it('skips a .key without its .private, with a warning', async () => {
    const k = await writeKey(dir, exampleCom, generateKey(exampleCom, 'ksk'));
    await rm(k.file!.replace(/\.key$/, '.private'));
    const warnings: string[] = [];
    expect(await loadKeys(dir, exampleCom, warnings)).toEqual([]);
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/ENOENT.*ignored$/);
  });

  it('ensureKeys creates the directory (0700), a KSK and a ZSK, and is idempotent', async () => {
    const kd = join(dir, 'keys');
    const first = await ensureKeys(kd, exampleCom);
    expect((await stat(kd)).mode & 0o777).toBe(0o700);
    expect(first.map((k) => k.role).sort()).toEqual(['ksk', 'zsk']);
    expect((await readdir(kd)).length).toBe(4);
    const second = await ensureKeys(kd, exampleCom);
    expect(second.map((k) => k.tag).sort()).toEqual(first.map((k) => k.tag).sort());
    expect((await readdir(kd)).length).toBe(4);
    const text = await readFile(first.find((k) => k.role === 'ksk')!.file!, 'utf8');
    expect(text).toMatch(/^; This is a key-signing key, keyid \d+, for example\.com\.\n/);
    expect(b64(text.trim().split(' ').pop()!).length).toBe(64);
  });

  it('ensureKeys run concurrently (several workers loading one zone) generates one KSK and one ZSK in all', async () => {
    const kd = join(dir, 'keys-race');
    const results = await Promise.all([1, 2, 3, 4].map(() => ensureKeys(kd, exampleCom)));
    const tags = results.map((ks) => ks.map((k) => k.tag).sort((a, b) => a - b).join(','));
    expect(new Set(tags).size).toBe(1);
    expect(results[0]!.map((k) => k.role).sort()).toEqual(['ksk', 'zsk']);
    expect((await readdir(kd)).sort().filter((f) => f.startsWith('K')).length).toBe(4);
    expect((await readdir(kd)).some((f) => f.endsWith('.lock'))).toBe(false);
  });
});

describe('activeKeys', () => {
  it('picks the newest active key per role, honouring Activate/Inactive', () => {
    const now = new Date(Date.UTC(2026, 0, 10));
    const at = (d: number): Date => new Date(Date.UTC(2026, 0, d));
    const old = { ...generateKey(exampleCom, 'zsk', at(1)), timing: { activate: at(1) } };
    const retired = { ...generateKey(exampleCom, 'zsk', at(5)), timing: { activate: at(5), inactive: at(9) } };
    const future = { ...generateKey(exampleCom, 'zsk', at(6)), timing: { activate: at(11) } };
    const ksk = generateKey(exampleCom, 'ksk', at(2));
    const picked = activeKeys([old, retired, future, ksk], now);
    expect(picked.zsk.tag).toBe(old.tag);
    expect(picked.ksk.tag).toBe(ksk.tag);
    expect(isActive(future, now)).toBe(false);
    expect(() => activeKeys([old], now)).toThrow(/active KSK/);
  });
});
