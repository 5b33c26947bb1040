// Tests for listen-address parsing, the all-or-nothing startListeners, and the batched UDP sockets a cluster primary
// binds for its workers.

import { afterEach, describe, expect, it } from 'vitest';
import { fstatSync, openSync } from 'node:fs';
import { ListenAddressError, formatListenAddress, parseListenAddress } from '../../src/server/address.js';
import { bindSharedUdp, inheritedUdpSockets, startListeners, type Listeners } from '../../src/server/listen.js';
import { nativeUdp } from '../../src/server/native-udp.js';
import { hasIPv6Loopback } from './netutil.js';

const ipv6 = await hasIPv6Loopback();

describe('parseListenAddress', () => {
  it('parses the accepted forms', () => {
    expect(parseListenAddress('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353, family: 'IPv4', dualStack: false });
    expect(parseListenAddress('[::1]:5353')).toEqual({ host: '::1', port: 5353, family: 'IPv6', dualStack: false });
    expect(parseListenAddress('0.0.0.0:53')).toEqual({ host: '0.0.0.0', port: 53, family: 'IPv4', dualStack: false });
    expect(parseListenAddress('[::]:53')).toEqual({ host: '::', port: 53, family: 'IPv6', dualStack: false });
    expect(parseListenAddress(':53')).toEqual({ host: '::', port: 53, family: 'IPv6', dualStack: true });
    expect(parseListenAddress('*:8053')).toEqual({ host: '::', port: 8053, family: 'IPv6', dualStack: true });
    expect(parseListenAddress('192.0.2.1')).toEqual({ host: '192.0.2.1', port: 53, family: 'IPv4', dualStack: false });
    expect(parseListenAddress('[2001:db8::1]', 5300)).toEqual({ host: '2001:db8::1', port: 5300, family: 'IPv6', dualStack: false });
    expect(parseListenAddress(' 10.0.0.1:0 ')).toEqual({ host: '10.0.0.1', port: 0, family: 'IPv4', dualStack: false });
  });

  it('round-trips through formatListenAddress', () => {
    for (const s of ['127.0.0.1:5353', '[::1]:5353', ':53', '[fe80::1%eth0]:53']) expect(formatListenAddress(parseListenAddress(s))).toBe(s);
  });

  it('keeps the zone of a link-local address for the socket (RFC 4007 §11)', () => {
    expect(parseListenAddress('[fe80::1%eth0]:53')).toEqual({ host: 'fe80::1%eth0', port: 53, family: 'IPv6', dualStack: false });
  });

  const bad: readonly (readonly [string, string])[] = [
    ['', 'invalid listen address "": empty'],
    ['::1', 'invalid listen address "::1": IPv6 addresses need brackets, e.g. "[::1]:53"'],
    ['[::1', 'invalid listen address "[::1": missing "]" after the IPv6 address'],
    ['[::1]53', 'invalid listen address "[::1]53": expected ":port" after "]"'],
    ['[1.2.3.4]:53', 'invalid listen address "[1.2.3.4]:53": "1.2.3.4" is not an IPv6 address'],
    ['localhost:53', 'invalid listen address "localhost:53": "localhost" is not an IP address (host names are not accepted)'],
    ['127.0.0.1:65536', 'invalid listen address "127.0.0.1:65536": port 65536 is above 65535'],
    ['127.0.0.1:dns', 'invalid listen address "127.0.0.1:dns": port "dns" is not a number'],
    ['127.0.0.1:', 'invalid listen address "127.0.0.1:": port "" is not a number'],
    ['300.1.1.1:53', 'invalid listen address "300.1.1.1:53": "300.1.1.1" is not an IP address (host names are not accepted)'],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      expect(() => parseListenAddress(input)).toThrow(ListenAddressError);
      expect(() => parseListenAddress(input)).toThrow(message);
    });
  }
});

describe('startListeners', () => {
  let open: Listeners[] = [];
  afterEach(async () => {
    await Promise.all(open.map((l) => l.close(0)));
    open = [];
  });

  it('binds UDP and TCP on the same OS-chosen port', async () => {
    const l = await startListeners(['127.0.0.1:0'], () => null);
    open.push(l);
    expect(l.bound.length).toBe(2);
    const [u, t] = l.bound;
    expect(u?.transport).toBe('udp');
    expect(t?.transport).toBe('tcp');
    expect(u?.address).toBe('127.0.0.1');
    expect(u?.port).toBeGreaterThan(0);
    expect(t?.port).toBe(u?.port);
  });

  it('fails as a whole, naming the address, when a port is taken', async () => {
    const a = await startListeners(['127.0.0.1:0'], () => null);
    open.push(a);
    const port = a.bound[0]?.port ?? 0;
    await expect(startListeners(['127.0.0.1:0', `127.0.0.1:${port}`], () => null)).rejects.toThrow(
      `cannot listen on udp 127.0.0.1:${port}: bind EADDRINUSE 127.0.0.1:${port}`,
    );
  });

  it.skipIf(nativeUdp() === undefined || !ipv6)('batched UDP binds with the zone id it is given and refuses an unknown interface', async () => {
    // Loopback has no link-local address to bind, so the zone is checked where it reaches the kernel: `%lo`
    // resolves to an interface index (the kernel ignores it for ::1), an unknown name fails the bind.
    const l = await startListeners(['[::1%lo]:0'], () => null, { udpIo: 'batched', tcp: false });
    open.push(l);
    expect(l.bound.map((b) => b.address)).toEqual(['::1%lo']);
    await expect(startListeners(['[::1%nosuch9]:0'], () => null, { udpIo: 'batched', tcp: false })).rejects.toThrow(
      'cannot listen on udp [::1%nosuch9]:0: if_nametoindex ENODEV [::1%nosuch9]:0',
    );
  });

  it('can serve UDP only', async () => {
    const l = await startListeners(['127.0.0.1:0'], () => null, { tcp: false });
    open.push(l);
    expect(l.bound.map((b) => b.transport)).toEqual(['udp']);
  });
});

describe.skipIf(nativeUdp() === undefined)('bindSharedUdp / inheritedUdpSockets (cluster primary and workers)', () => {
  it('binds one reuse-port socket per worker; a second primary or a plain bind on the port fails', async () => {
    const shared = bindSharedUdp(['127.0.0.1:0'], 'auto', 2, 10);
    expect(shared?.fds.length).toBe(2);
    try {
      const rows = JSON.parse(shared!.env['APEXDNS_UDP_SOCKETS']!) as [string, number, number[]][];
      expect(rows.length).toBe(1);
      const [text, port, slots] = rows[0]!;
      expect([text, slots]).toEqual(['127.0.0.1:0', [10, 11]]);
      expect(port).toBeGreaterThan(0);
      expect(() => bindSharedUdp([`127.0.0.1:${port}`], 'auto', 2, 10)).toThrow(`cannot listen on udp 127.0.0.1:${port}: bind EADDRINUSE 127.0.0.1:${port}`);
      await expect(startListeners([`127.0.0.1:${port}`], () => null, { tcp: false, udpIo: 'dgram' })).rejects.toThrow('EADDRINUSE');
      await expect(startListeners([`127.0.0.1:${port}`], () => null, { tcp: false, udpIo: 'batched' })).rejects.toThrow('EADDRINUSE');
    } finally {
      shared?.close();
    }
    expect(bindSharedUdp(['127.0.0.1:0'], 'dgram', 2, 10)).toBeUndefined();
  });

  it("a worker takes its slot's socket and closes the other slots' descriptors", () => {
    const other = openSync('/dev/null', 'r');
    const env = { APEXDNS_UDP_SOCKETS: JSON.stringify([['127.0.0.1:5300', 5300, [other, 99]]]) };
    expect(inheritedUdpSockets(1, env)).toEqual(new Map([['127.0.0.1:5300', { fd: 99, port: 5300 }]]));
    expect(() => fstatSync(other)).toThrow('EBADF');
    expect(inheritedUdpSockets(0, {})).toBeUndefined();
  });
});
