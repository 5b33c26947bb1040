// AXFR out over real TCP from an apexdns primary: the multi-message stream (RFC 5936 §2.2: SOA first and last,
// messages ≤ 65535 octets, RFC 8945 §5.3.1: every message TSIG-signed and verifiable as one stream), and TSIG
// BADTIME (RFC 8945 §5.2.3: NOTAUTH + signed TSIG with error 18, request time kept, server time in Other Data), and
// a live-signed zone going out unsigned with only the other signer's DNSKEYs.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { generateKey } from '../../src/dnssec/keys.js';
import { pullZone, tcpExchange } from '../../src/transfer/client.js';
import { findTsig, signMessage, TsigStream, tsigKeyFromConfig, verifyMessage } from '../../src/transfer/tsig.js';
import { Rcode, RRClass, RRType, typeToString } from '../../src/wire/constants.js';
import { rdataToText } from '../../src/wire/rdata/index.js';
import { decodeMessage } from '../../src/wire/decode.js';
import { encodeQuery } from '../../src/wire/encode.js';
import { Name } from '../../src/wire/name.js';
import { freePort } from '../helpers/ports.js';
import { Capture, SECRET, startApp, yamlHead } from './helpers.js';

const ZONE = Name.parse('stream.example.');
const TXT_RECORDS = 1200;
const FOREIGN_B64 = Buffer.from(generateKey(Name.parse('signed.example.'), 'zsk').publicKey).toString('base64');
const key = tsigKeyFromConfig({ name: 'xfr-key', algorithm: 'hmac-sha256', secret: SECRET });

describe('AXFR out stream and TSIG BADTIME over TCP', () => {
  let dir = '';
  let port = 0;
  let app: App;
  const log = new Capture();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apexdns-xfrout-'));
    port = await freePort();
    const body: string[] = [];
    // ~1200 TXT records of ~250 octets: about five 64 KiB messages.
    for (let i = 0; i < TXT_RECORDS; i++) body.push(`t${i} IN TXT "${String(i).padStart(4, '0')}${'y'.repeat(236)}"`);
    writeFileSync(join(dir, 'z.zone'), ['$ORIGIN stream.example.', '$TTL 300', '@ 3600 IN SOA ns1 hostmaster 42 3600 600 86400 300', '@ IN NS ns1', 'ns1 IN A 192.0.2.1', ...body, ''].join('\n'));
    // A live-signed zone with another signer's ZSK in its file (RFC 8901 model 2).
    writeFileSync(join(dir, 's.zone'), ['$ORIGIN signed.example.', '$TTL 300', '@ 3600 IN SOA ns1 hostmaster 5 3600 600 86400 300', '@ IN NS ns1', `@ 3600 IN DNSKEY 256 3 13 ${FOREIGN_B64}`, 'ns1 IN A 192.0.2.1', ''].join('\n'));
    app = await startApp(dir, [
      ...yamlHead(port),
      'acl:',
      '  - { name: ops, key: xfr-key }',
      'zones:',
      '  - name: stream.example',
      '    file: z.zone',
      '    allow-transfer: [ops]',
      '  - name: signed.example',
      '    file: s.zone',
      '    allow-transfer: [ops]',
      '    dnssec: { state: active, keys: keys }',
      '',
    ].join('\n'), log.logger);
  });

  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function request(qtype: number, time?: number, edns?: { readonly do: boolean }): { bytes: Uint8Array; mac: Uint8Array; id: number } {
    const id = 0x1234;
    const q = encodeQuery({ id, question: { name: ZONE, type: qtype, class: RRClass.IN }, ...(edns ? { edns: { udpSize: 1232, do: edns.do, options: [] } } : {}) });
    const s = signMessage(q, key, time === undefined ? {} : { time });
    return { bytes: s.message, mac: s.mac, id };
  }

  it('puts an OPT RR (DO echoed) in every message when the AXFR request had one, before the TSIG (RFC 6891 §7)', async () => {
    const req = request(RRType.AXFR, undefined, { do: true });
    const msgs: Uint8Array[] = [];
    let answers = 0;
    await tcpExchange({ address: '127.0.0.1', port }, req.bytes, (m) => {
      msgs.push(m);
      answers += (m[6]! << 8) | m[7]!;
      return answers > 1 && decodeMessage(m).answer.at(-1)?.type === RRType.SOA;
    }, 20_000);
    expect(msgs.length).toBeGreaterThanOrEqual(4);
    const stream = new TsigStream(key, req.mac);
    for (const [i, m] of msgs.entries()) {
      expect(m.length, `message ${i}`).toBeLessThanOrEqual(65535);
      const v = stream.push(m);
      expect(v.ok, `message ${i}: ${v.ok ? '' : v.detail}`).toBe(true);
      if (!v.ok) return;
      const d = decodeMessage(v.message);
      expect(d.edns, `message ${i}`).toBeDefined();
      expect(d.edns!.flags & 0x8000, `message ${i}`).toBe(0x8000);
    }
    expect(stream.finish()).toBe(true);
  });

  it('streams SOA … SOA in several signed messages of at most 65535 octets that verify as one TSIG stream', async () => {
    const req = request(RRType.AXFR);
    const msgs: Uint8Array[] = [];
    let answers = 0;
    await tcpExchange({ address: '127.0.0.1', port }, req.bytes, (m) => {
      msgs.push(m);
      answers += (m[6]! << 8) | m[7]!;
      const d = decodeMessage(m);
      // The closing SOA ends the stream (more than one record seen).
      return answers > 1 && d.answer.at(-1)?.type === RRType.SOA;
    }, 20_000);
    expect(msgs.length).toBeGreaterThanOrEqual(4);
    const stream = new TsigStream(key, req.mac);
    const records: { owner: string; type: number; data: string }[] = [];
    msgs.forEach((m, i) => {
      // RFC 5936 §2.2 / RFC 1035 §4.2.2: a TCP message is at most 65535 octets.
      expect(m.length).toBeLessThanOrEqual(65535);
      // Every message carries a TSIG RR (RFC 8945 §5.3.1; we sign each one), signed with our key.
      const t = findTsig(m);
      expect(t?.keyName.toString()).toBe('xfr-key.');
      expect(t?.error).toBe(0);
      expect(t?.mac.length).toBe(32);
      const v = stream.push(m);
      expect(v.ok, `message ${i}: ${v.ok ? '' : v.detail}`).toBe(true);
      if (!v.ok) return;
      expect(v.signed).toBe(true);
      const d = decodeMessage(v.message);
      expect(d.id).toBe(req.id);
      expect(d.rcode).toBe(Rcode.NOERROR);
      // RFC 5936 §2.2.1: the question only in the first message.
      expect(d.question.length).toBe(i === 0 ? 1 : 0);
      for (const r of d.answer) records.push({ owner: r.owner.toString(), type: r.type, data: Buffer.from(r.rdata).toString('hex') });
    });
    expect(stream.finish()).toBe(true);
    const snap = app.store.current.get(ZONE.key)!.snapshot;
    // RFC 5936 §2.2: the first and the last record are the zone's SOA; the records between are the rest of the zone.
    expect(records[0]).toEqual({ owner: 'stream.example.', type: RRType.SOA, data: Buffer.from(snap.soa.rdata[0]!).toString('hex') });
    expect(records.at(-1)).toEqual(records[0]);
    expect(records.length).toBe(TXT_RECORDS + 3 + 1);
    expect(records.slice(1, -1).filter((r) => r.type === RRType.SOA)).toEqual([]);
    const served = [...snap.records].filter((r) => r.type !== RRType.SOA).map((r) => `${r.owner.toString()} ${r.type} ${Buffer.from(r.rdata).toString('hex')}`).sort();
    expect(records.slice(1, -1).map((r) => `${r.owner} ${r.type} ${r.data}`).sort()).toEqual(served);
    // Any message cut out of the stream breaks verification of the rest.
    const broken = new TsigStream(key, req.mac);
    expect(broken.push(msgs[0]!).ok).toBe(true);
    const skipped = broken.push(msgs[2]!);
    expect(skipped.ok).toBe(false);
    expect(skipped.ok ? '' : skipped.error).toBe('BADSIG');
  });

  it('answers a request signed outside the fudge window with NOTAUTH and a signed BADTIME TSIG, and logs it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const reqTime = now - 1000; // fudge is 300 s
    const req = request(RRType.AXFR, reqTime);
    let reply: Uint8Array | undefined;
    await tcpExchange({ address: '127.0.0.1', port }, req.bytes, (m) => {
      reply = m;
      return true;
    }, 5000);
    expect(reply).toBeDefined();
    const m = reply!;
    // RFC 8945 §5.2.3: RCODE NOTAUTH (9) in the header.
    expect(m[3]! & 0x0f).toBe(Rcode.NOTAUTH);
    expect((m[0]! << 8) | m[1]!).toBe(req.id);
    const t = findTsig(m)!;
    expect(t.keyName.toString()).toBe('xfr-key.');
    expect(t.error).toBe(18); // BADTIME
    // The request's Time Signed is echoed; Other Data holds the server's time as 48 bits.
    expect(t.time).toBe(reqTime);
    expect(t.otherData.length).toBe(6);
    const serverTime = t.otherData.reduce((acc, b) => acc * 256 + b, 0);
    expect(Math.abs(serverTime - now)).toBeLessThanOrEqual(5);
    // The error response is signed over the request MAC (verifiable at the request's time).
    const v = verifyMessage(m, (n) => (n.equals(key.name) ? key : undefined), { requestMac: req.mac, now: reqTime });
    expect(v.ok).toBe(true);
    if (v.ok) expect(v.tsigError).toBe(18);
    // No zone data leaks out.
    expect(decodeMessage(m).answer.length).toBe(0);
    const ev = log.events('transfer.tsig-failed').find((e) => e.error === 'BADTIME');
    expect(ev).toMatchObject({ zone: 'stream.example.', request: 'axfr', client: '127.0.0.1', error: 'BADTIME', key: 'xfr-key.' });
    expect(String(ev!.detail)).toMatch(new RegExp(`^time signed ${reqTime} is 100\\ds away from now \\(fudge 300\\)$`));
  });

  it('accepts a request signed just inside the fudge window', async () => {
    const req = request(RRType.SOA, Math.floor(Date.now() / 1000) - 250);
    let reply: Uint8Array | undefined;
    await tcpExchange({ address: '127.0.0.1', port }, req.bytes, (m) => {
      reply = m;
      return true;
    }, 5000);
    expect(reply![3]! & 0x0f).toBe(Rcode.NOERROR);
    expect(findTsig(reply!)!.error).toBe(0);
    const d = decodeMessage(reply!);
    expect(d.answer.map((r) => r.type)).toEqual([RRType.SOA]);
  });

  it('sends a live-signed zone unsigned, with the other signer\'s DNSKEY from the file but none of ours', async () => {
    const served = app.store.current.get(Name.parse('signed.example.').key)!.snapshot;
    // Served: our KSK + ZSK + the foreign ZSK, CDS and CDNSKEY.
    expect(served.apex.rrsets.get(RRType.DNSKEY)!.rdata.length).toBe(3);
    expect(served.apex.rrsets.has(RRType.CDS)).toBe(true);
    const r = await pullZone({ address: '127.0.0.1', port, key }, Name.parse('signed.example.'), undefined, 5000);
    if (r.result.kind !== 'axfr') throw new Error(`not an AXFR: ${r.result.kind}`);
    const out = r.result.records.map((x) => `${x.owner.toString()} ${typeToString(x.type)} ${rdataToText(x.type, x.rdata).replace(/\s+/g, '')}`).sort();
    expect(out).toEqual([
      `signed.example. DNSKEY 256313${FOREIGN_B64}`,
      'signed.example. NS ns1.signed.example.',
      'signed.example. SOA ns1.signed.example.hostmaster.signed.example.5360060086400300',
      'ns1.signed.example. A 192.0.2.1',
    ].sort());
  });
});
