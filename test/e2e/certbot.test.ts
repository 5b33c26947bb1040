// A real certificate (issue 13): Debian's pebble (the ACME test CA) checks DNS-01 against apexdns (two workers), and
// certbot with python3-certbot-dns-rfc2136 obtains a certificate for example.test and *.example.test by RFC 2136
// UPDATE with TSIG. The _acme-challenge TXT records come and go, and the zone file afterwards equals the original
// except for the SOA serial.

import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon } from '../helpers/daemon.js';
import { freePorts } from '../helpers/ports.js';
import { spawnServer, stopAll } from '../helpers/procs.js';
import { tool } from '../helpers/tools.js';
import { waitFor } from './env.js';

const built = daemonBuilt();
const pebble = tool('pebble');
const certbot = tool('certbot');
const openssl = tool('openssl');
const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  await stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const ZONE = `$ORIGIN example.test.
$TTL 300
; the zone certbot proves control of
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 127.0.0.1
@ A 127.0.0.1
`;

/** A CA and a localhost certificate it signed, for pebble's own HTTPS listener. */
function pebbleCerts(dir: string, bin: string): void {
  const o = (args: string[]): void => void execFileSync(bin, args, { cwd: dir, stdio: 'ignore' });
  o(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=apexdns test CA']);
  o(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem', '-out', 'req.csr', '-subj', '/CN=localhost']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  o(['x509', '-req', '-in', 'req.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cert.pem', '-days', '30', '-extfile', 'ext.cnf']);
}

describe.skipIf('skip' in built || 'skip' in pebble || 'skip' in certbot || 'skip' in openssl)('certbot + pebble over RFC 2136', () => {
  it('obtains a certificate for example.test and *.example.test; the zone file ends as it began but the serial', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apexdns-acme-'));
    dirs.push(dir);
    pebbleCerts(dir, (openssl as { path: string }).path);
    const zoneFile = join(dir, 'example.test.zone');
    writeFileSync(zoneFile, ZONE);
    const secret = Buffer.alloc(32, 9).toString('base64');
    const [dnsPort, acmePort, mgmtPort, httpPort, tlsPort] = await freePorts(5);
    await startDaemon([{ name: 'example.test', file: zoneFile }], {
      port: dnsPort,
      workers: 2,
      timeoutMs: 20_000,
      extra: {
        'state-dir': join(dir, 'var'),
        rrl: { 'responses-per-second': 0 },
        'tsig-keys': [{ name: 'acme-key', algorithm: 'hmac-sha256', secret }],
        acl: [{ name: 'acme', key: 'acme-key' }],
        zones: [{ name: 'example.test', file: zoneFile, 'allow-update': ['acme'] }],
      },
    });
    writeFileSync(join(dir, 'pebble.json'), JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${mgmtPort}`, certificate: join(dir, 'cert.pem'),
        privateKey: join(dir, 'key.pem'), httpPort, tlsPort, ocspResponderURL: '', externalAccountBindingRequired: false,
      },
    }));
    const p = spawnServer((pebble as { path: string }).path, ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], {
      label: `pebble:${acmePort}`,
      dir,
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
    });
    await waitFor('pebble listening', () => p.output().includes('Listening on'), 20_000);
    const ini = join(dir, 'rfc2136.ini');
    writeFileSync(ini, `dns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = ${dnsPort}\ndns_rfc2136_name = acme-key\ndns_rfc2136_secret = ${secret}\ndns_rfc2136_algorithm = HMAC-SHA256\n`);
    chmodSync(ini, 0o600);
    // Debian's certbot and its plugins are modules of /usr/bin/python3, not of a python3 earlier on PATH.
    const r = await run('/usr/bin/python3', [(certbot as { path: string }).path, 'certonly', '--non-interactive', '--agree-tos', '-m', 'admin@example.test',
      '--server', `https://127.0.0.1:${acmePort}/dir`, '--dns-rfc2136', '--dns-rfc2136-credentials', ini, '--dns-rfc2136-propagation-seconds', '1',
      '-d', 'example.test', '-d', '*.example.test', '--config-dir', join(dir, 'cfg'), '--work-dir', join(dir, 'work'), '--logs-dir', join(dir, 'logs')], {
      env: { ...process.env, REQUESTS_CA_BUNDLE: join(dir, 'ca.pem') },
      timeout: 180_000,
    }).catch((e: { stdout?: string; stderr?: string }) => {
      throw new Error(`certbot failed:\n${e.stdout ?? ''}\n${e.stderr ?? ''}\n${p.output()}`);
    });
    expect(r.stdout + r.stderr).toContain('Successfully received certificate');
    const cert = new X509Certificate(readFileSync(join(dir, 'cfg', 'live', 'example.test', 'cert.pem')));
    expect(cert.subjectAltName?.split(', ').sort()).toEqual(['DNS:*.example.test', 'DNS:example.test']);
    // Two TXT records added and removed: four changes, four serial increments, nothing else in the file changed.
    expect(readFileSync(zoneFile, 'utf8')).toBe(ZONE.replace('hostmaster 1 3600', 'hostmaster 5 3600'));
  }, 240_000);
});
