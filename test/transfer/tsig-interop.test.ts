// TSIG interop with BIND: signed AXFR requests to a `named` primary (multi-message TSIG verification, BADSIG and
// BADTIME error replies), and `dig -y` queries answered by our signer for all six algorithms.

import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyChangeset, diffRecords } from '../../src/transfer/changeset.js';
import { AxfrAssembler, IxfrParser } from '../../src/transfer/ixfr-parse.js';
import { signMessage, TsigStream, verifyMessage, type TsigAlgorithm, type TsigKey, type VerifyFail } from '../../src/transfer/tsig.js';
import { Name } from '../../src/wire/name.js';
import { NO_META, type RR } from '../../src/zone/model.js';
import { answersSoa, buildQuery, dig, queryTcpAll } from '../helpers/dig.js';
import { parseMessage } from '../helpers/dnsmsg.js';
import { freePort } from '../helpers/ports.js';
import { capture, terminate, trackChild, waitReady } from '../helpers/procs.js';
import { tool } from '../helpers/tools.js';

const named = tool('named');
const digTool = tool('dig');

const ALGS: readonly TsigAlgorithm[] = ['hmac-md5', 'hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'];
const SECRET_B64 = 'dGhpcyBpcyBhIHRlc3Qgc2VjcmV0IGZvciBhcGV4ZG5zIQ==';
const keyOf = (alg: TsigAlgorithm): TsigKey => ({ name: Name.parse(`k-${alg}.`), algorithm: alg, secret: Buffer.from(SECRET_B64, 'base64') });
const TXT_COUNT = 2000;

function zoneText(): string {
  const lines = [
    '$ORIGIN example.com.',
    '$TTL 300',
    '@ IN SOA ns1 hostmaster 2024010101 3600 600 86400 300',
    '@ IN NS ns1',
    'ns1 IN A 192.0.2.53',
  ];
  const filler = 'x'.repeat(200);
  for (let i = 0; i < TXT_COUNT; i++) lines.push(`t${i} IN TXT "${i}-${filler}"`);
  return lines.join('\n') + '\n';
}

/** The IXFR test zone at version `v` (1..3): each version changes, adds and removes records. */
function ixfrZone(v: number): string {
  const lines = ['$ORIGIN ixfr.test.', '$TTL 300', `@ IN SOA ns1 hostmaster ${v} 3600 600 86400 300`, '@ IN NS ns1', 'ns1 IN A 192.0.2.53'];
  for (let i = 0; i < 20; i++) if (i !== v) lines.push(`h${i} IN A 192.0.2.${i === v + 5 ? 100 + v : i}`);
  lines.push(`ttl IN ${v === 3 ? 60 : 300} TXT "same"`);
  if (v >= 2) lines.push(`v${v} IN AAAA 2001:db8::${v}`);
  return lines.join('\n') + '\n';
}

function toRR(rr: { owner: string; type: number; class: number; ttl: number; rdata: Uint8Array }): RR {
  return { owner: Name.parse(rr.owner.endsWith('.') ? rr.owner : rr.owner + '.'), type: rr.type, class: rr.class, ttl: rr.ttl, rdata: rr.rdata, meta: NO_META };
}

const showRR = (r: RR): string => `${r.owner.key} ${r.ttl} ${r.type} ${Buffer.from(r.rdata).toString('hex')}`;

/** A signed IXFR query for ixfr.test with our SOA (serial `serial`) in the authority section (RFC 1995 §3). */
function ixfrQuery(serial: number): Uint8Array {
  const q = buildQuery({ name: 'ixfr.test', type: 'IXFR', id: 0x6262 });
  const soaRd = Buffer.concat([Name.parse('ns1.ixfr.test.').toWire(), Name.parse('hostmaster.ixfr.test.').toWire(), Buffer.alloc(20)]);
  soaRd.writeUInt32BE(serial, soaRd.length - 20);
  const rr = Buffer.concat([Name.parse('ixfr.test.').toWire(), Buffer.from([0, 6, 0, 1, 0, 0, 0, 0, 0, soaRd.length]), soaRd]);
  const out = Buffer.concat([q, rr]);
  out.writeUInt16BE(1, 8);
  return out;
}

/** AXFR query for example.com signed with `key`; collects every message of the answer stream. */
async function signedAxfr(port: number, key: TsigKey, time?: number): Promise<{ mac: Uint8Array; msgs: Buffer[] }> {
  const q = buildQuery({ name: 'example.com', type: 'AXFR', id: 0x5151 });
  const { message, mac } = signMessage(q, key, time === undefined ? {} : { time });
  let soas = 0;
  const msgs = await queryTcpAll(port, message, (m) => {
    const p = parseMessage(m);
    if (p.rcode !== 0) return true;
    soas += p.answer.filter((rr) => rr.type === 6).length;
    return soas >= 2;
  }, 15_000);
  return { mac, msgs };
}

describe.skipIf('skip' in named || 'skip' in digTool)('TSIG interop with BIND named (AXFR)', () => {
  let dir = '';
  let port = 0;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apexdns-named-'));
    port = await freePort();
    writeFileSync(join(dir, 'example.com.zone'), zoneText());
    const keys = ALGS.map((a) => `key "k-${a}" { algorithm ${a}; secret "${SECRET_B64}"; };`).join('\n');
    writeFileSync(join(dir, 'named.conf'), `${keys}
options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  notify no;
  dnssec-validation no;
  allow-transfer { ${ALGS.map((a) => `key "k-${a}";`).join(' ')} };
};
controls { };
zone "example.com" { type primary; file "${dir}/example.com.zone"; };
zone "ixfr.test" { type primary; file "${dir}/ixfr.test.zone"; ixfr-from-differences yes; max-ixfr-ratio unlimited; };
`);
    writeFileSync(join(dir, 'ixfr.test.zone'), ixfrZone(1));
    const path = 'path' in named ? named.path : 'named';
    const c = spawn(path, ['-g', '-4', '-n', '1', '-c', join(dir, 'named.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    trackChild(c);
    const out = capture(c.stderr);
    capture(c.stdout);
    await waitReady('named', c, out, () => answersSoa(port, 'example.com'), 20_000);
  });

  afterAll(async () => {
    if (child) await terminate(child);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const alg of ALGS) {
    it(`verifies every message of a multi-message AXFR signed with ${alg}`, async () => {
      const key = keyOf(alg);
      const { mac, msgs } = await signedAxfr(port, key);
      expect(msgs.length).toBeGreaterThan(3); // 2000 × ~210-octet TXT in 20 KB messages
      const stream = new TsigStream(key, mac);
      const asm = new AxfrAssembler({ zone: Name.parse('example.com.') });
      let signed = 0;
      for (const m of msgs) {
        const r = stream.push(m);
        if (!r.ok) throw new Error(`message ${msgs.indexOf(m)}: ${r.error} ${r.detail}`);
        if (r.signed) signed++;
        const p = parseMessage(r.message);
        expect(p.rcode).toBe(0);
        for (const rr of p.answer) {
          const rec: RR = { owner: Name.parse(rr.owner.endsWith('.') ? rr.owner : rr.owner + '.'), type: rr.type, class: rr.class, ttl: rr.ttl, rdata: rr.rdata, meta: NO_META };
          asm.push(rec);
        }
      }
      expect(stream.finish()).toBe(true);
      expect(signed).toBe(msgs.length); // BIND 9.18 signs every message of the stream
      expect(asm.done).toBe(true);
      expect(asm.finish().records.length).toBe(TXT_COUNT + 3);
      // Tampering with any message breaks the chain.
      const st2 = new TsigStream(key, mac);
      const bad = Buffer.from(msgs[1]!);
      bad[bad.length - 40] = bad[bad.length - 40]! ^ 1;
      const r0 = st2.push(msgs[0]!);
      if (!r0.ok) throw new Error(`${r0.error} ${r0.detail}`);
      const r = st2.push(bad);
      expect(r.ok && r.signed).toBe(false);
    });
  }

  it('IXFR from BIND: the parser yields the changesets and applying them gives the new zone', async () => {
    const key = keyOf('hmac-sha256');
    const fetch = async (query: Uint8Array, parser: { push(rr: RR): void; readonly done: boolean }): Promise<void> => {
      const { message, mac } = signMessage(query, key);
      const stream = new TsigStream(key, mac);
      const msgs = await queryTcpAll(port, message, (m) => {
        const r = stream.push(m);
        if (!r.ok) throw new Error(`TSIG: ${r.error}`);
        const p = parseMessage(r.message);
        if (p.rcode !== 0) throw new Error(`rcode ${p.rcode}`);
        for (const rr of p.answer) parser.push(toRR(rr));
        return parser.done;
      }, 10_000);
      expect(msgs.length).toBeGreaterThan(0);
      expect(stream.finish()).toBe(true);
    };
    const axfr = async (): Promise<RR[]> => {
      const asm = new AxfrAssembler({ zone: Name.parse('ixfr.test.') });
      await fetch(buildQuery({ name: 'ixfr.test', type: 'AXFR', id: 0x6161 }), asm);
      return [...asm.finish().records];
    };
    const serialNow = async (): Promise<number> => {
      const asm = await axfr();
      return Buffer.from(asm[0]!.rdata).readUInt32BE(asm[0]!.rdata.length - 20);
    };
    const v1 = await axfr();
    for (const v of [2, 3]) {
      writeFileSync(join(dir, 'ixfr.test.zone'), ixfrZone(v));
      child!.kill('SIGHUP'); // named reloads zones on SIGHUP and journals the differences
      const deadline = Date.now() + 10_000;
      while ((await serialNow()) !== v) {
        if (Date.now() > deadline) throw new Error(`named did not load serial ${v}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const v3 = await axfr();
    const parser = new IxfrParser({ clientSerial: 1, zone: Name.parse('ixfr.test.') });
    await fetch(ixfrQuery(1), parser);
    const res = parser.finish();
    expect(res.kind).toBe('ixfr');
    if (res.kind !== 'ixfr') return;
    expect(res.changesets.map((c) => [c.fromSerial, c.toSerial])).toEqual([[1, 2], [2, 3]]);
    let cur: RR[] = v1;
    for (const cs of res.changesets) cur = applyChangeset(cur, cs);
    expect(cur.map(showRR).sort()).toEqual(v3.map(showRR).sort());
    // Our own diff of the same versions agrees with BIND's net effect.
    const ours = diffRecords(v1, v3);
    expect(applyChangeset(v1, ours).map(showRR).sort()).toEqual(v3.map(showRR).sort());
    // A client at the newest serial gets a lone SOA: up to date.
    const p2 = new IxfrParser({ clientSerial: 3 });
    const { message } = signMessage(ixfrQuery(3), key);
    const one = await queryTcpAll(port, message, () => true, 5000);
    for (const rr of parseMessage(one[0]!).answer) p2.push(toRR(rr));
    expect(p2.finish().kind).toBe('uptodate');
  });

  it('BIND answers a wrong secret with NOTAUTH and an unsigned BADSIG TSIG', async () => {
    const key = { ...keyOf('hmac-sha256'), secret: Uint8Array.of(1, 2, 3, 4) };
    const { mac, msgs } = await signedAxfr(port, key);
    expect(msgs.length).toBe(1);
    const m = msgs[0]!;
    expect(m[3]! & 0x0f).toBe(9);
    const r = verifyMessage(m, () => key, { requestMac: mac }) as VerifyFail;
    expect(r.ok).toBe(false);
    expect(r.error).toBe('BADSIG');
    expect(r.peerError).toBe(true);
  });

  it('BIND answers a stale time with a signed BADTIME that our verifier accepts', async () => {
    const key = keyOf('hmac-sha256');
    const stale = Math.floor(Date.now() / 1000) - 3600;
    const { mac, msgs } = await signedAxfr(port, key, stale);
    expect(msgs.length).toBe(1);
    const m = msgs[0]!;
    expect(m[3]! & 0x0f).toBe(9);
    const r = verifyMessage(m, () => key, { requestMac: mac, now: stale });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.tsigError).toBe(18);
    expect(r.time).toBe(stale);
    expect(r.otherData.length).toBe(6);
    const serverTime = Buffer.from(r.otherData).readUIntBE(0, 6);
    expect(Math.abs(serverTime - (stale + 3600))).toBeLessThan(30);
  });
});

describe.skipIf('skip' in digTool)('TSIG interop with dig -y (our server side)', () => {
  let sock: Socket | undefined;
  let port = 0;
  const seen: string[] = [];

  beforeAll(async () => {
    port = await freePort();
    const s = createSocket('udp4');
    sock = s;
    const keys = new Map(ALGS.map((a) => [keyOf(a).name.key, keyOf(a)]));
    s.on('message', (msg, rinfo) => {
      const v = verifyMessage(msg, (n) => keys.get(n.key));
      if (!v.ok) {
        seen.push(v.error);
        return;
      }
      seen.push(`ok ${v.key.algorithm}`);
      // Response: the query with QR|AA set, signed over the request MAC (RFC 8945 §5.3).
      const resp = Uint8Array.from(v.message);
      resp[2] = 0x84;
      resp[3] = 0x00;
      const { message } = signMessage(resp, v.key, { requestMac: v.mac });
      s.send(message, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => s.bind(port, '127.0.0.1', () => resolve()));
  });

  afterAll(async () => {
    if (sock) await new Promise<void>((resolve) => sock!.close(() => resolve()));
  });

  for (const alg of ALGS) {
    it(`dig -y ${alg}: we verify the query, dig verifies our response`, async () => {
      const r = await dig(port, ['-y', `${alg}:k-${alg}:${SECRET_B64}`, 'example.com', 'SOA', '+norecurse']);
      expect(seen[seen.length - 1]).toBe(`ok ${alg}`);
      expect(r.stdout).toContain('status: NOERROR');
      expect(r.stdout).toMatch(new RegExp(`k-${alg}\\.\\s+0\\s+ANY\\s+TSIG\\s+${alg.replace(/-/g, '\\-')}`, 'i'));
      expect(r.stdout + r.stderr).not.toMatch(/verify|failure|Couldn't/i);
    });
  }

  it('dig notices a response signed with the wrong key', async () => {
    // A different secret on dig's side: our verifier rejects the query (BADSIG) and sends nothing; dig times out.
    const r = await dig(port, ['-y', `hmac-sha256:k-hmac-sha256:${Buffer.from('other').toString('base64')}`, 'example.com', 'SOA']);
    expect(seen[seen.length - 1]).toBe('BADSIG');
    expect(r.stdout).toMatch(/timed out|no servers could be reached/);
  });
});
