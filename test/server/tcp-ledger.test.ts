// TCP connection accounting for the whole server (src/server/tcp-ledger.ts): limits across worker slots sharing one
// table, release, and a replacement worker taking a dead one's counts back.

import { describe, expect, it } from 'vitest';
import { LocalLedger, SharedLedger, ledgerTableSize } from '../../src/server/tcp-ledger.js';

const LIMITS = { maxConnections: 5, maxConnectionsPerClient: 3 };

describe('TCP connection ledgers', () => {
  it('local: the total and per-client limits, released on close', () => {
    const l = new LocalLedger(LIMITS);
    expect([1, 2, 3, 4].map(() => l.acquire('192.0.2.1'))).toEqual(['ok', 'ok', 'ok', 'client-full']);
    expect([1, 2, 3].map(() => l.acquire('192.0.2.2'))).toEqual(['ok', 'ok', 'server-full']);
    l.release('192.0.2.1');
    expect(l.acquire('192.0.2.3')).toBe('ok');
    expect(l.acquire('192.0.2.4')).toBe('server-full');
    // A client at its own limit is told so even when the server is full too (eviction only helps 'server-full').
    expect(l.acquire('192.0.2.1')).toBe('server-full');
  });

  it('shared: two workers on one table hold the limits for the server, not each', () => {
    const table = new Int32Array(ledgerTableSize(2));
    const a = new SharedLedger(table, 0, LIMITS);
    const b = new SharedLedger(table, 1, LIMITS);
    // Alternating workers, one client: 3 in all, not 3 each.
    expect([a, b, a, b, a].map((w) => w.acquire('192.0.2.1'))).toEqual(['ok', 'ok', 'ok', 'client-full', 'client-full']);
    expect([b, a, b].map((w) => w.acquire('192.0.2.2'))).toEqual(['ok', 'ok', 'server-full']);
    // Total 5 reached.
    expect(a.acquire('192.0.2.9')).toBe('server-full');
    b.release('192.0.2.1');
    expect(a.acquire('192.0.2.9')).toBe('ok');
  });

  it('a worker restarted in a dead one\'s slot takes its connections back out of the server-wide counts', () => {
    const table = new Int32Array(ledgerTableSize(2));
    const a = new SharedLedger(table, 0, LIMITS);
    const b = new SharedLedger(table, 1, LIMITS);
    expect([a, a, a].map((w) => w.acquire('192.0.2.1'))).toEqual(['ok', 'ok', 'ok']);
    expect(b.acquire('192.0.2.1')).toBe('client-full');
    // Worker 0 dies with three connections counted; its replacement starts in slot 0.
    new SharedLedger(table, 0, LIMITS);
    expect([b, b, b].map((w) => w.acquire('192.0.2.1'))).toEqual(['ok', 'ok', 'ok']);
  });
});
