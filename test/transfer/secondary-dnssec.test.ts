// DNSSEC on secondary zones (issue 5, seed "DNSSEC for Secondary DNS"), in process over loopback: a live-signed
// secondary drops the primary's RRSIG/NSEC/NSEC3/NSEC3PARAM, adds our DNSKEY/CDS/CDNSKEY/NSEC3PARAM and signs DO=1
// answers with our keys, also after an IXFR; a pre-signed secondary serves the transferred records as they are.

import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { generateKey } from '../../src/dnssec/keys.js';
import { signingOf } from '../../src/dnssec/zone-keys.js';
import { RRClass, RRType, typeToString } from '../../src/wire/constants.js';
import { decodeMessage } from '../../src/wire/decode.js';
import { encodeQuery } from '../../src/wire/encode.js';
import { pullZone } from '../../src/transfer/client.js';
import { tsigKeyFromConfig } from '../../src/transfer/tsig.js';
import { Name } from '../../src/wire/name.js';
import { rdataToText } from '../../src/wire/rdata/index.js';
import type { ZoneSnapshot } from '../../src/zone/snapshot.js';
import { freePort } from '../helpers/ports.js';
import { Capture, SECRET, startApp, until, yamlHead } from './helpers.js';

const LIVE = Name.parse('live.example.');
const PRE = Name.parse('pre.example.');
const SIG = Buffer.alloc(64, 7).toString('base64');
const FOREIGN = generateKey(LIVE, 'zsk');
const FOREIGN_B64 = Buffer.from(FOREIGN.publicKey).toString('base64');

/** A zone that looks signed by its primary: RRSIGs, NSECs, an NSEC3PARAM and the primary's own DNSKEY. */
function signedLooking(origin: string, serial: number, extra: readonly string[] = []): string {
  return [
    `$ORIGIN ${origin}`,
    '$TTL 300',
    `@ 3600 IN SOA ns1 hostmaster ${serial} 3600 600 86400 300`,
    `@ 3600 IN RRSIG SOA 13 2 3600 20300101000000 20200101000000 4242 ${origin} ${SIG}`,
    '@ IN NS ns1',
    `@ IN RRSIG NS 13 2 300 20300101000000 20200101000000 4242 ${origin} ${SIG}`,
    `@ 3600 IN DNSKEY 256 3 13 ${FOREIGN_B64}`,
    '@ 0 IN NSEC3PARAM 1 0 10 AABB',
    '@ IN NSEC ns1 SOA NS RRSIG NSEC DNSKEY NSEC3PARAM',
    'ns1 IN A 192.0.2.1',
    'ns1 IN NSEC www A RRSIG NSEC',
    'www IN A 192.0.2.10',
    `www IN RRSIG A 13 3 300 20300101000000 20200101000000 4242 ${origin} ${SIG}`,
    `www IN NSEC ${origin} A RRSIG NSEC`,
    ...extra,
    '',
  ].join('\n');
}

function lines(snap: ZoneSnapshot): string[] {
  return [...snap.records].map((r) => `${r.owner.toString()} ${r.ttl} ${typeToString(r.type)} ${rdataToText(r.type, r.rdata)}`).sort();
}

async function queryDo(app: App, name: string, type: number): Promise<ReturnType<typeof decodeMessage>> {
  const q = encodeQuery({ id: 7, question: { name: Name.parse(name), type, class: RRClass.IN }, edns: { udpSize: 1232, do: true, options: [] } });
  const r = await app.queryEngine.handle(q, { transport: 'udp', address: '127.0.0.1', port: 5300 });
  if (!(r instanceof Uint8Array)) throw new Error('expected one message');
  return decodeMessage(r);
}

describe('secondary zones: live-signed and pre-signed', () => {
  const pDir = mkdtempSync(join(tmpdir(), 'apexdns-sdnssec-p-'));
  const sDir = mkdtempSync(join(tmpdir(), 'apexdns-sdnssec-s-'));
  let primary: App;
  let secondary: App;
  const sLog = new Capture();
  let pPort = 0;
  let sPort = 0;

  const snap = (app: App, zone: Name): ZoneSnapshot | undefined => app.store.current.get(zone.key)?.snapshot;

  beforeAll(async () => {
    pPort = await freePort();
    sPort = await freePort();
    writeFileSync(join(pDir, 'live.zone'), signedLooking('live.example.', 1));
    writeFileSync(join(pDir, 'pre.zone'), signedLooking('pre.example.', 1));
    primary = await startApp(pDir, [
      ...yamlHead(pPort),
      'peers:',
      `  - { name: sec, address: 127.0.0.1, port: ${sPort}, tsig: xfr-key }`,
      'zones:',
      '  - { name: live.example, file: live.zone, notify: [sec], allow-transfer: [sec] }',
      '  - { name: pre.example, file: pre.zone, allow-transfer: [sec] }',
      '',
    ].join('\n'), new Capture().logger);
    secondary = await startApp(sDir, [
      ...yamlHead(sPort),
      'peers:',
      `  - { name: prim, address: 127.0.0.1, port: ${pPort}, tsig: xfr-key, ixfr: true }`,
      'acl:',
      '  - { name: ops, key: xfr-key }',
      'zones:',
      '  - name: live.example',
      '    type: secondary',
      '    primaries: [prim]',
      '    allow-transfer: [ops]',
      '    dnssec: { state: active, denial: nsec3, keys: keys }',
      '  - name: pre.example',
      '    type: secondary',
      '    primaries: [prim]',
      '    dnssec: { mode: presigned }',
      '',
    ].join('\n'), sLog.logger);
    await until(() => snap(secondary, LIVE) !== undefined && snap(secondary, PRE) !== undefined, 5000, 'both zones transferred');
  });

  afterAll(async () => {
    await secondary?.stop();
    await primary?.stop();
    rmSync(pDir, { recursive: true, force: true });
    rmSync(sDir, { recursive: true, force: true });
  });

  it('live: strips the primary\'s DNSSEC records, adds ours, keeps its DNSKEY (multi-signer) and attaches the signer', () => {
    const s = snap(secondary, LIVE)!;
    const signing = signingOf(s);
    expect(signing?.kind).toBe('live');
    if (signing?.kind !== 'live') return;
    const keyFiles = readdirSync(join(sDir, 'keys')).sort();
    expect(keyFiles.filter((f) => f.endsWith('.key'))).toEqual([`Klive.example.+013+${String(signing.signer.ksk.tag).padStart(5, '0')}.key`, `Klive.example.+013+${String(signing.signer.zsk.tag).padStart(5, '0')}.key`].sort());
    const types = new Set([...s.records].map((r) => r.type));
    for (const t of [RRType.RRSIG, RRType.NSEC, RRType.NSEC3]) expect(types.has(t), typeToString(t)).toBe(false);
    const apex = s.apex.rrsets;
    const dnskeys = apex.get(RRType.DNSKEY)!.rdata.map((r) => Buffer.from(r).toString('hex')).sort();
    expect(dnskeys).toEqual([signing.signer.ksk.dnskeyRdata, signing.signer.zsk.dnskeyRdata, FOREIGN.dnskeyRdata].map((r) => Buffer.from(r).toString('hex')).sort());
    expect(apex.get(RRType.NSEC3PARAM)!.rdata.map((r) => rdataToText(RRType.NSEC3PARAM, r))).toEqual(['1 0 0 -']);
    expect(apex.get(RRType.CDNSKEY)!.rdata.map((r) => Buffer.from(r).toString('hex'))).toEqual([Buffer.from(signing.signer.ksk.dnskeyRdata).toString('hex')]);
    expect(apex.get(RRType.CDS)!.rdata.length).toBe(1);
    expect(s.soaInfo.serial).toBe(1);
  });

  it('live: a DO=1 answer carries an RRSIG by our ZSK over the transferred data', async () => {
    const signing = signingOf(snap(secondary, LIVE)!);
    if (signing?.kind !== 'live') throw new Error('not live');
    const m = await queryDo(secondary, 'www.live.example.', RRType.A);
    expect(m.answer.map((r) => typeToString(r.type))).toEqual(['A', 'RRSIG']);
    const sig = m.answer[1]!.rdata;
    // RRSIG RDATA (RFC 4034 §3.1): type covered A, algorithm 13, labels 3, original TTL 300, key tag at octet 16.
    expect([(sig[0]! << 8) | sig[1]!, sig[2], sig[3]]).toEqual([RRType.A, 13, 3]);
    expect(((sig[16]! << 8) | sig[17]!)).toBe(signing.signer.zsk.tag);
    expect(rdataToText(RRType.RRSIG, sig)).not.toContain('4242');
  });

  it('live: an IXFR update is re-shaped and signed again', async () => {
    writeFileSync(join(pDir, 'live.zone'), signedLooking('live.example.', 2, ['new IN A 192.0.2.77', `new IN RRSIG A 13 3 300 20300101000000 20200101000000 4242 live.example. ${SIG}`]));
    await primary.reload();
    await until(() => snap(secondary, LIVE)?.soaInfo.serial === 2, 5000, 'secondary at serial 2');
    // The new version is published just before transfer.succeeded is logged: wait for the log line too.
    await until(() => sLog.events('transfer.succeeded').some((e) => e.zone === 'live.example.' && e.serial === 2), 5000, 'transfer logged');
    expect(sLog.events('transfer.succeeded').filter((e) => e.zone === 'live.example.').map((e) => [e.type, e.serial])).toEqual([['AXFR', 1], ['IXFR', 2]]);
    const s = snap(secondary, LIVE)!;
    expect(signingOf(s)?.kind).toBe('live');
    expect([...s.records].some((r) => r.type === RRType.RRSIG)).toBe(false);
    const m = await queryDo(secondary, 'new.live.example.', RRType.A);
    expect(m.answer.map((r) => `${typeToString(r.type)} ${rdataToText(r.type, r.rdata).split(' ').slice(0, 3).join(' ')}`)).toEqual(['A 192.0.2.77', 'RRSIG A 13 3']);
  });

  it('live: our own AXFR out is unsigned and keeps only the primary\'s DNSKEY (multi-signer)', async () => {
    const key = tsigKeyFromConfig({ name: 'xfr-key', algorithm: 'hmac-sha256', secret: SECRET });
    const r = await pullZone({ address: '127.0.0.1', port: sPort, key }, LIVE, undefined, 5000);
    if (r.result.kind !== 'axfr') throw new Error(`not an AXFR: ${r.result.kind}`);
    const out = r.result.records.map((x) => `${x.owner.toString()} ${typeToString(x.type)} ${rdataToText(x.type, x.rdata).replace(/\s+/g, '')}`).sort();
    expect(out).toEqual([
      `live.example. DNSKEY 256313${FOREIGN_B64}`,
      'live.example. NS ns1.live.example.',
      // (blanks removed: "ns1… hostmaster… 2 3600 600 86400 300")
      'live.example. SOA ns1.live.example.hostmaster.live.example.2360060086400300',
      'new.live.example. A 192.0.2.77',
      'ns1.live.example. A 192.0.2.1',
      'www.live.example. A 192.0.2.10',
    ].sort());
  });

  it('presigned: serves the transferred records exactly, with the stored RRSIGs', async () => {
    const s = snap(secondary, PRE)!;
    expect(signingOf(s)?.kind).toBe('presigned');
    expect(lines(s)).toEqual(lines(snap(primary, PRE)!));
    const m = await queryDo(secondary, 'www.pre.example.', RRType.A);
    // (The presentation form splits long base64 into chunks: compare without blanks.)
    expect(m.answer.map((r) => `${typeToString(r.type)}:${rdataToText(r.type, r.rdata).replace(/\s+/g, '')}`)).toEqual([
      'A:192.0.2.10',
      `RRSIG:${'A 13 3 300 20300101000000 20200101000000 4242 pre.example. '.replace(/ /g, '')}${SIG}`,
    ]);
    // The transferred copy is persisted as received (RRSIG/NSEC included) for restarts.
    expect(existsSync(join(sDir, 'state', 'pre.example.xfr'))).toBe(true);
  });
});
