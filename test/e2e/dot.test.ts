// End to end: DNS over TLS (RFC 7858) and zone transfer over TLS (RFC 9103). `kdig +tls` against the tls listener
// (two workers), ALPN "dot", pipelined queries, the certificate reloaded on SIGHUP, and an apexdns secondary that
// transfers from an apexdns primary over TLS, checking the certificate against a CA file or a pinned key.

import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { buildQuery } from '../helpers/dig.js';
import { daemonBuilt, startDaemon } from '../helpers/daemon.js';
import { parseMessage } from '../helpers/dnsmsg.js';
import { freePorts } from '../helpers/ports.js';
import { stopAll } from '../helpers/procs.js';
import { tool } from '../helpers/tools.js';
import { exampleZoneDir, logLines, waitFor } from './env.js';

const built = daemonBuilt();
const openssl = tool('openssl');
const kdig = tool('kdig');
const dirs: string[] = [];
afterAll(async () => {
  await stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A self-signed P-256 certificate for ns1.example.test and 127.0.0.1 in `dir`: [cert, key]. */
function makeCert(dir: string, tag: string): [string, string] {
  const cert = join(dir, `${tag}.crt`);
  const key = join(dir, `${tag}.key`);
  execFileSync((openssl as { path: string }).path, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '30', '-subj', `/CN=ns1.example.test`, '-addext', 'subjectAltName=DNS:ns1.example.test,IP:127.0.0.1'], { stdio: 'ignore' });
  return [cert, key];
}

const pinOf = (certFile: string): string => createHash('sha256').update(new X509Certificate(execFileSync('cat', [certFile])).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');

/** Open a TLS connection with ALPN dot, send `names` as pipelined A queries, collect the answers. */
function pipelined(port: number, ca: string, names: readonly string[]): Promise<{ alpn: string | false; fingerprint: string; answers: Map<number, number> }> {
  return new Promise((resolve, reject) => {
    const s: TLSSocket = connect({ host: '127.0.0.1', port, ca: execFileSync('cat', [ca]), servername: 'ns1.example.test', ALPNProtocols: ['dot'] });
    let buf = Buffer.alloc(0);
    const answers = new Map<number, number>();
    const timer = setTimeout(() => reject(new Error('no answers over TLS')), 10_000);
    s.on('secureConnect', () => {
      s.write(Buffer.concat(names.map((n, i) => {
        const q = buildQuery({ name: n, type: 'A', id: 100 + i });
        return Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);
      })));
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = parseMessage(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        answers.set(m.id, m.answer.length);
      }
      if (answers.size === names.length) {
        clearTimeout(timer);
        const r = { alpn: s.alpnProtocol ?? false, fingerprint: s.getPeerX509Certificate()?.fingerprint256 ?? '', answers };
        s.end();
        resolve(r);
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe.skipIf('skip' in built || 'skip' in openssl || 'skip' in kdig)('DNS over TLS and XoT', () => {
  it('kdig +tls, ALPN dot, pipelining, and a new certificate after SIGHUP (2 workers)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apexdns-dot-'));
    dirs.push(dir);
    const z = exampleZoneDir();
    dirs.push(z.dir);
    const [cert1, key1] = makeCert(dir, 'one');
    const [cert2, key2] = makeCert(dir, 'two');
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    copyFileSync(cert1, cert);
    copyFileSync(key1, key);
    const [tlsPort] = await freePorts(1);
    const d = await startDaemon([{ name: 'example.com', file: z.zoneFile }], { workers: 2, extra: { tls: { listen: [`127.0.0.1:${tlsPort}`], certificate: cert, key } } });
    await waitFor('both TLS listeners', () => logLines(d.output()).filter((l) => l.transport === 'tls' && l.msg === 'listening').length === 2, 20_000);
    const out = execFileSync((kdig as { path: string }).path, [`+tls-ca=${cert}`, '+tls-hostname=ns1.example.test', '-p', String(tlsPort), '@127.0.0.1', 'www.example.com', 'A'], { encoding: 'utf8' });
    expect(out).toMatch(/;; TLS session \(TLS1\.[23]\)/);
    expect(out).toMatch(/^www\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.10$/m);
    const first = await pipelined(tlsPort!, cert, ['www.example.com', 'example.com', 'nope.example.com']);
    expect(first.alpn).toBe('dot');
    expect([...first.answers.entries()].sort()).toEqual([[100, 1], [101, 1], [102, 0]]);
    expect(first.fingerprint).toBe(new X509Certificate(execFileSync('cat', [cert1])).fingerprint256);
    // New certificate on disk, SIGHUP: new connections get it.
    copyFileSync(cert2, cert);
    copyFileSync(key2, key);
    d.reload();
    await waitFor('the certificate reloaded in both workers', () => logLines(d.output()).filter((l) => l.msg === 'tls: certificate reloaded').length === 2, 20_000);
    const second = await pipelined(tlsPort!, cert, ['www.example.com']);
    expect(second.fingerprint).toBe(new X509Certificate(execFileSync('cat', [cert2])).fingerprint256);
    await d.stop();
  }, 60_000);

  it('XoT: a secondary transfers over TLS, checking a CA file or a pinned key; a wrong pin is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apexdns-xot-'));
    dirs.push(dir);
    const [cert, key] = makeCert(dir, 'p');
    const file = join(dir, 'example.net.zone');
    writeFileSync(file, '$ORIGIN example.net.\n$TTL 300\n@ SOA ns1 h 7 3600 600 86400 300\n@ NS ns1\nns1 A 127.0.0.1\nwww A 192.0.2.77\n');
    const [pp, tp, sp] = await freePorts(3);
    const secret = Buffer.alloc(32, 7).toString('base64');
    const keys = [{ name: 'xfr-key', algorithm: 'hmac-sha256', secret }];
    await startDaemon([{ name: 'example.net', file }], {
      port: pp,
      extra: { 'state-dir': join(dir, 'p'), 'tsig-keys': keys, acl: [{ name: 'sec', key: 'xfr-key' }], tls: { listen: [`127.0.0.1:${tp}`], certificate: cert, key }, zones: [{ name: 'example.net', file, 'allow-transfer': ['sec'] }] },
    });
    const peer = { name: 'p', address: '127.0.0.1', port: tp, tsig: 'xfr-key', tls: true };
    const zones = [{ name: 'example.net', type: 'secondary', primaries: ['p'] }];
    const viaCa = await startDaemon([{ name: 'example.net', file }], { port: sp, timeoutMs: 20_000, extra: { 'state-dir': join(dir, 's1'), 'tsig-keys': keys, peers: [{ ...peer, 'tls-ca': cert, 'tls-hostname': 'ns1.example.test' }], zones } });
    expect(logLines(viaCa.output()).filter((l) => l.event === 'transfer.succeeded').map((l) => l.serial)).toEqual([7]);
    const viaPin = await startDaemon([{ name: 'example.net', file }], { timeoutMs: 20_000, extra: { 'state-dir': join(dir, 's2'), 'tsig-keys': keys, peers: [{ ...peer, 'tls-pin': pinOf(cert) }], zones } });
    expect(logLines(viaPin.output()).filter((l) => l.event === 'transfer.succeeded').map((l) => l.serial)).toEqual([7]);
    // A wrong pin: the transfer is refused, with the reason in the log.
    const wrong = await startDaemon([{ name: 'example.com', file: exampleZoneDir().zoneFile }], {
      timeoutMs: 20_000,
      extra: { 'state-dir': join(dir, 's3'), 'tsig-keys': keys, peers: [{ ...peer, 'tls-pin': Buffer.alloc(32, 1).toString('base64') }], zones: [...zones, { name: 'example.com', file: exampleZoneDir().zoneFile }] },
    });
    await waitFor('the pin mismatch logged', () => logLines(wrong.output()).some((l) => l.event === 'transfer.primary-failed' && String(l.error).includes('TLS key pin mismatch')), 20_000);
    // Plain TCP to the TLS port is not DNS: without tls: true the transfer fails too.
    const plain = await startDaemon([{ name: 'example.com', file: exampleZoneDir().zoneFile }], {
      timeoutMs: 20_000,
      extra: { 'state-dir': join(dir, 's4'), 'tsig-keys': keys, peers: [{ name: 'p', address: '127.0.0.1', port: tp, tsig: 'xfr-key' }], zones: [...zones, { name: 'example.com', file: exampleZoneDir().zoneFile }] },
    });
    await waitFor('the plain-TCP attempt failed', () => logLines(plain.output()).some((l) => l.event === 'transfer.primary-failed'), 30_000);
  }, 120_000);
});
