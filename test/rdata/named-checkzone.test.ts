// Cross-check every RDATA codec against BIND 9.18: named-checkzone -D must print exactly what rdataToText prints,
// and parsing BIND's text back must give identical wire bytes.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Name } from '../../src/wire/name.js';
import type { RdataToken } from '../../src/wire/rdata-api.js';
import { rdataFromText, rdataToText, typeFromMnemonic } from '../../src/wire/rdata/index.js';
import { lexAll } from '../../src/zone/lexer.js';
import { tool } from '../helpers/tools.js';

const checkzone = tool('named-checkzone');
const origin = Name.parse('example.com.');

function tokens(text: string): readonly RdataToken[] {
  const recs = lexAll(text, (line, col, msg) => {
    throw new Error(`lex error ${line}:${col}: ${msg}`);
  });
  return recs[0]?.tokens ?? [];
}

const B64A = 'AwEAAbOFAxl+Lkt0UMglZizKEcMHqGGMWvCfN5IHk2Sr9QsPnVsr0Iv1nUaF2YHnTz0Z2OumyF4MBW4mMKlR/IDzq53BTqkbvL8zL4MYeBHu1Y5fBm64+Z7IfEDuvjyK2a8Bfeljs5Ld1sdGrpE+JBBjxadT1sXsZ2bS3E39HL87sjkP';
const B64B = 'oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o=';
const HEX64 = '49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE49FD46E6C4B45C55D4AC69CB';
const HEX96 = 'A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90';

/** type, rdata presentation as written in the zone file */
const RECORDS: readonly (readonly [string, string])[] = [
  ['A', '192.0.2.1'],
  ['A', '0.0.0.0'],
  ['A', '255.255.255.255'],
  ['AAAA', '2001:db8:0:0:0:0:0:1'],
  ['AAAA', '2001:DB8::1:0:0:1'],
  ['AAAA', '1:0:0:1:0:0:0:1'],
  ['AAAA', '::'],
  ['AAAA', '::1'],
  ['AAAA', '::2'],
  ['AAAA', '::ffff:192.0.2.1'],
  ['AAAA', '::192.0.2.1'],
  ['AAAA', '::ffff:0:1'],
  ['AAAA', '2001:db8::'],
  ['AAAA', 'fe80:0:0:1::'],
  ['AAAA', '64:ff9b::192.0.2.33'],
  ['NS', 'ns1'],
  ['NS', 'ns.example.net.'],
  ['CNAME', 'www.example.org.'],
  ['CNAME', 'a\\.b\\032c\\"d\\;e'],
  ['DNAME', 'example.net.'],
  ['PTR', 'host.example.org.'],
  ['MX', '10 mail'],
  ['MX', '0 .'],
  ['TXT', '"hello world" "a\\"b\\\\c" "\\000\\255x" unq \\065bc'],
  ['TXT', '""'],
  ['TXT', '"semi;colon" "(paren)" "tab\\009here" "~\\127" "\'"'],
  ['TXT', '"v=spf1 -all"'],
  ['TXT', `"${'x'.repeat(255)}" "y"`],
  ['SPF', '"v=spf1 mx -all"'],
  ['HINFO', '"PC" "Linux os"'],
  ['HINFO', 'a b'],
  ['RP', 'admin.example.com. txt'],
  ['RP', '. .'],
  ['SRV', '10 20 5060 sip'],
  ['SRV', '0 0 0 .'],
  ['NAPTR', '100 10 "S" "SIP+D2U" "" _sip._udp.example.com.'],
  ['NAPTR', '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .'],
  ['CAA', '0 issue "letsencrypt.org"'],
  ['CAA', '128 tbs "a\\"b"'],
  ['CAA', '0 iodef "mailto:x@example.com"'],
  ['CAA', '0 issue ""'],
  ['CAA', '0 Issue x;y'],
  ['SSHFP', '1 1 123456789abcdef67890123456789abcdef67890'],
  ['SSHFP', '4 2 123456789abcdef67890123456789abcdef67890123456789abcdef67890abcd'],
  ['TLSA', '3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'],
  ['TLSA', '3 1 1 01234567 89abcdef'],
  ['SMIMEA', '3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'],
  ['OPENPGPKEY', `${B64A.slice(0, 50)} ${B64A.slice(50)}`],
  ['CERT', `PGP 0 0 ${B64B}`],
  ['CERT', '1 2 3 AAAA'],
  ['CERT', 'URI 65535 RSASHA256 AAAA'],
  ['CERT', 'IPGP 0 0 AAAA'],
  ['CERT', '254 1 253 AAAA'],
  ['URI', '10 1 "ftp://ftp1.example.com/public"'],
  ['URI', '1 2 ""'],
  ['LOC', '52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m'],
  ['LOC', '42 N 71 W 0m'],
  ['LOC', '42 21 54 N 71 06 18 W -24m 30m'],
  ['LOC', '37 23 30.900 N 121 59 19.000 W 7.00m 100.00m 100.00m 2.00m'],
  ['LOC', '0 0 0.001 S 0 0 0.5 W 1.5m 1.5m 0.1m 1234567m'],
  ['LOC', '0 N 0 E 0'],
  ['LOC', '90 S 180 E -100000m 90000000m 0 0.01'],
  ['LOC', '1 2 3.5 N 4 5 6.25 W 42849672.95m 0.5m 0.01 1'],
  ['DS', `12345 8 2 ${HEX64}`],
  ['DS', `12345 ECDSAP256SHA256 2 ${HEX64.slice(0, 20)} ${HEX64.slice(20)}`],
  ['DS', '1 8 1 0123456789012345678901234567890123456789'],
  ['DS', `1 14 4 ${HEX96}`],
  ['DS', '1 8 200 aabb'],
  ['CDS', '0 0 0 00'],
  ['CDS', `12345 8 2 ${HEX64}`],
  ['DNSKEY', `257 3 8 ${B64A}`],
  ['DNSKEY', '256 3 13 AwEAAQ=='],
  ['CDNSKEY', '0 3 0 AA=='],
  ['CDNSKEY', `257 3 8 ${B64A.slice(0, 60)} ${B64A.slice(60)}`],
  ['RRSIG', `A 13 2 3600 20240101000000 20231201000000 12345 example.com. ${B64B}`],
  ['RRSIG', 'TYPE65280 8 3 3600 1700000000 1600000000 0 . AAAA'],
  ['RRSIG', 'NSEC3PARAM RSASHA256 2 0 20301231235959 19991231000000 65535 example.com. AA=='],
  ['NSEC', 'host.example.com. A MX RRSIG NSEC TYPE1234 TYPE65280'],
  ['NSEC', '. A'],
  ['NSEC', 'a.example.com. NS SOA CAA HTTPS SVCB TYPE128 NSAP-PTR WALLET AVC TA DLV'],
  ['NSEC3', '1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG'],
  ['NSEC3', '1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S'],
  ['NSEC3', '1 0 0 - 2vptu5timamqttgl4luu9kg21e0aor3s NS SOA MX TXT AAAA RRSIG DNSKEY NSEC3PARAM'],
  ['NSEC3PARAM', '1 0 10 aabb'],
  ['NSEC3PARAM', '1 0 0 -'],
  ['ZONEMD', `2024010101 1 1 ${HEX96}`],
  ['ZONEMD', '2024010101 1 240 000102030405060708090a0b'],
  ['ZONEMD', `1 1 2 ${HEX64}${HEX64}`],
  ['SVCB', '0 foo.example.org.'],
  ['SVCB', '0 .'],
  ['SVCB', '1 .'],
  ['SVCB', '1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AEX+DQBB ipv6hint=2001:db8::1,::1 mandatory=port,alpn'],
  ['SVCB', '2 foo no-default-alpn alpn=h2 key65000=abc key65001 key9=\\001\\\\,x'],
  ['SVCB', '3 . alpn="h2,a\\\\,b\\\\\\\\c,d\\\\\\,e"'],
  ['SVCB', '1 . mandatory=key65000,key9 key9 key65000'],
  ['SVCB', '1 . alpn=h2 key65000="a b" key65001=\\255 key65002=""'],
  ['SVCB', '1 . key3=53'],
  ['SVCB', '1 . ech'],
  ['SVCB', '1 . port="53"'],
  ['HTTPS', '1 . alpn=h3 dohpath=/q{?dns}'],
  ['HTTPS', '1 svc.example.net. key7="/dns-query{?dns}" ipv6hint=::ffff:192.0.2.1'],
  ['HTTPS', '0 alias'],
  ['DHCID', 'AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA='],
  ['DHCID', B64B],
  ['IPSECKEY', `10 1 2 192.0.2.38 ${B64B}`],
  ['IPSECKEY', '10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=='],
  ['IPSECKEY', '10 2 2 2001:0DB8:0:8002::2000:1 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=='],
  ['IPSECKEY', '10 3 0 gw.example.net. AAAA'],
  ['APL', '1:192.168.32.0/21 !1:192.168.38.0/28 2:ff00::/8 1:0.0.0.0/0'],
  ['APL', '2:2001:db8::1/128 !2:::/0'],
  ['APL', ''],
  ['EUI48', '00-00-5e-00-53-2A'],
  ['EUI64', '00-00-5E-EF-10-00-00-2a'],
  ['NID', '10 0014:4fff:ff20:ee64'],
  ['L64', '10 2001:0DB8:1140:1000'],
  ['L32', '10 10.1.2.0'],
  ['LP', '10 l64.example.com.'],
  ['KX', '10 kx'],
  ['AFSDB', '1 afs'],
  ['RT', '1 rt'],
  ['CSYNC', '66 3 A NS AAAA'],
  ['TYPE65280', '\\# 3 abcdef'],
  ['TYPE65280', '\\# 0'],
  ['TYPE65281', `\\# 48 ${HEX96.slice(0, 30)} ${HEX96.slice(30)}`],
  ['TYPE1000', '\\# 1 00'],
  ['A', '\\# 4 c0000201'],
  ['TXT', '\\# 4 03616263'],
  ['MX', '\\# 3 000a00'],
  ['NULL', '\\# 2 0102'],
];

describe.skipIf('skip' in checkzone)('RDATA text matches BIND 9.18 named-checkzone -D', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apexdns-rdata-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const lines = ['$ORIGIN example.com.', '$TTL 3600', '@ SOA ns1 hostmaster ( 2024010101 1h 15m 2w 1d )', '@ NS ns1', 'ns1 A 192.0.2.53'];
  RECORDS.forEach(([type, rdata], i) => lines.push(`r${i} ${type} ${rdata}`));
  const file = join(dir, 'example.com.zone');
  writeFileSync(file, lines.join('\n') + '\n', 'latin1');

  // One record per line; "; resign=" comment lines follow RRSIGs.
  const out = execFileSync('path' in checkzone ? checkzone.path : 'named-checkzone', ['-k', 'ignore', '-i', 'none', '-D', '-o', '-', 'example.com', file], {
    encoding: 'latin1',
  });
  const bind = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    if (line === '' || line.startsWith(';')) continue;
    const m = /^(\S+)\s+\d+\s+IN\s+(\S+)\s?(.*)$/.exec(line);
    if (!m) throw new Error(`unparsed named-checkzone line: ${line}`);
    const key = m[1]!;
    const text = m[3]!.replace(/^\s+/, '');
    bind.set(key, [...(bind.get(key) ?? []), `${m[2]!}|${text}`]);
  }

  it('loads every record', () => {
    expect(bind.size).toBe(RECORDS.length + 2);
  });

  it('apex SOA with TTL-style timers', () => {
    const soa = bind.get('example.com.')!.find((s) => s.startsWith('SOA|'))!;
    expect(soa).toBe('SOA|ns1.example.com. hostmaster.example.com. 2024010101 3600 900 1209600 86400');
    const wire = rdataFromText(6, tokens('ns1 hostmaster ( 2024010101 1h 15m 2w 1d )'), origin);
    expect(rdataToText(6, wire)).toBe(soa.slice(4));
  });

  RECORDS.forEach(([type, rdata], i) => {
    it(`r${i} ${type} ${rdata.length > 60 ? rdata.slice(0, 60) + '…' : rdata}`, () => {
      const got = bind.get(`r${i}.example.com.`);
      expect(got).toBeDefined();
      expect(got!.length).toBe(1);
      const [bindType, bindText] = got![0]!.split('|') as [string, string];
      const code = typeFromMnemonic(bindType)!;
      expect(code).toBe(typeFromMnemonic(type));
      const wire = rdataFromText(code, tokens(rdata), origin);
      expect(rdataToText(code, wire)).toBe(bindText);
      // Idempotence: BIND's output parses back to the same wire bytes.
      expect(Buffer.from(rdataFromText(code, tokens(bindText), origin)).toString('hex')).toBe(Buffer.from(wire).toString('hex'));
    });
  });
});
