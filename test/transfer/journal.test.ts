// On-disk changeset journal: append/read, chain rules, bounds with atomic compaction, torn-tail recovery.

import { mkdtemp, readFile, rm, stat, truncate, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Changeset } from '../../src/transfer/changeset.js';
import { encodeChangesetRecord, Journal, JournalError } from '../../src/transfer/journal.js';
import { Name } from '../../src/wire/name.js';
import { a, show, soa, ZONE } from './rr.js';

function cs(from: number, to: number, extra = 1): Changeset {
  const removed = [soa(from)];
  const added = [soa(to)];
  for (let i = 0; i < extra; i++) {
    removed.push(a(`h${i}`, `192.0.2.${from % 250}`));
    added.push(a(`h${i}`, `192.0.2.${to % 250}`));
  }
  return { fromSerial: from, toSerial: to, removed, added };
}

const view = (c: Changeset): unknown => ({ from: c.fromSerial, to: c.toSerial, removed: c.removed.map(show), added: c.added.map(show) });

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apexdns-journal-'));
  path = join(dir, 'example.com.jnl');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Journal', () => {
  it('creates a file with its header and answers nothing when empty', async () => {
    const j = await Journal.open(path, { zone: ZONE });
    const buf = await readFile(path);
    expect(Buffer.from(buf).toString('hex')).toBe('4150584a0001' + '076578616d706c6503636f6d00');
    expect(await j.changesetsSince(1)).toBeUndefined();
    expect(j.length).toBe(0);
  });

  it('appends and reads back changesets by starting serial', async () => {
    const j = await Journal.open(path, { zone: ZONE });
    await j.append(cs(1, 2));
    await j.append(cs(2, 3, 3));
    await j.append(cs(3, 4));
    expect([j.firstSerial, j.lastSerial, j.length]).toEqual([1, 4, 3]);
    expect((await j.changesetsSince(1))!.map(view)).toEqual([view(cs(1, 2)), view(cs(2, 3, 3)), view(cs(3, 4))]);
    expect((await j.changesetsSince(3))!.map(view)).toEqual([view(cs(3, 4))]);
    expect(await j.changesetsSince(4)).toEqual([]);
    expect(await j.changesetsSince(0)).toBeUndefined();
    expect(await j.changesetsSince(7)).toBeUndefined();
    // Reopen: same content from disk.
    const j2 = await Journal.open(path, { zone: ZONE });
    expect((await j2.changesetsSince(2))!.map(view)).toEqual([view(cs(2, 3, 3)), view(cs(3, 4))]);
    expect(j2.size).toBe(j.size);
  });

  it('encodes records in the documented binary layout', () => {
    const rec = encodeChangesetRecord({ fromSerial: 1, toSerial: 2, removed: [], added: [a('w', '192.0.2.1', 60)] });
    const hex = Buffer.from(rec).toString('hex');
    // length 16 + (owner 15 + 10 + 4) = 45 = 0x2d; crc; serials; counts 0/1; owner; A IN 60 len 4 192.0.2.1
    expect(hex.slice(0, 8)).toBe('0000002d');
    expect(hex.slice(16)).toBe('00000001' + '00000002' + '00000000' + '00000001' + '0177076578616d706c6503636f6d00' + '0001' + '0001' + '0000003c' + '0004' + 'c0000201');
  });

  it('restarts the history when a changeset does not continue the chain', async () => {
    const j = await Journal.open(path, { zone: ZONE });
    await j.append(cs(1, 2));
    await j.append(cs(10, 11));
    expect([j.firstSerial, j.lastSerial, j.length]).toEqual([10, 11, 1]);
    expect(await j.changesetsSince(1)).toBeUndefined();
  });

  it('drops the oldest changesets beyond maxChangesets, atomically', async () => {
    const j = await Journal.open(path, { zone: ZONE, maxChangesets: 3 });
    for (let s = 1; s <= 6; s++) await j.append(cs(s, s + 1));
    expect([j.firstSerial, j.lastSerial, j.length]).toEqual([4, 7, 3]);
    expect(await j.changesetsSince(3)).toBeUndefined();
    expect((await j.changesetsSince(4))!.map((c) => c.toSerial)).toEqual([5, 6, 7]);
    const j2 = await Journal.open(path, { zone: ZONE, maxChangesets: 3 });
    expect((await j2.changesetsSince(5))!.map((c) => c.toSerial)).toEqual([6, 7]);
    expect((await readFile(path)).length).toBe(19 + j.size);
  });

  it('drops the oldest changesets beyond maxBytes but keeps the newest', async () => {
    const one = encodeChangesetRecord(cs(1, 2)).length;
    const j = await Journal.open(path, { zone: ZONE, maxBytes: one * 2 + 1 });
    for (let s = 1; s <= 4; s++) await j.append(cs(s, s + 1));
    expect([j.firstSerial, j.lastSerial]).toEqual([3, 5]);
    expect(j.size).toBe(one * 2);
    await j.append(cs(5, 6, 50)); // bigger than the bound on its own
    expect([j.firstSerial, j.lastSerial, j.length]).toEqual([5, 6, 1]);
    expect((await j.changesetsSince(5))!.map(view)).toEqual([view(cs(5, 6, 50))]);
  });

  it('recovers from a truncated last record (crash mid-write)', async () => {
    const j = await Journal.open(path, { zone: ZONE });
    await j.append(cs(1, 2));
    await j.append(cs(2, 3));
    const full = (await stat(path)).size;
    await truncate(path, full - 5);
    const j2 = await Journal.open(path, { zone: ZONE });
    expect([j2.firstSerial, j2.lastSerial, j2.length]).toEqual([1, 2, 1]);
    expect((await stat(path)).size).toBe(19 + encodeChangesetRecord(cs(1, 2)).length);
    await j2.append(cs(2, 3));
    const j3 = await Journal.open(path, { zone: ZONE });
    expect((await j3.changesetsSince(1))!.map(view)).toEqual([view(cs(1, 2)), view(cs(2, 3))]);
  });

  it('ignores a last record with a bad checksum or a partial length prefix', async () => {
    const j = await Journal.open(path, { zone: ZONE });
    await j.append(cs(1, 2));
    const good = (await stat(path)).size;
    const bad = encodeChangesetRecord(cs(2, 3));
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff;
    await appendFile(path, bad);
    const j2 = await Journal.open(path, { zone: ZONE });
    expect(j2.lastSerial).toBe(2);
    expect((await stat(path)).size).toBe(good);
    await appendFile(path, Uint8Array.of(0, 0));
    const j3 = await Journal.open(path, { zone: ZONE });
    expect(j3.lastSerial).toBe(2);
    expect((await stat(path)).size).toBe(good);
  });

  it('refuses foreign files and journals of another zone', async () => {
    await writeFile(path, 'hello world, not a journal');
    await expect(Journal.open(path, { zone: ZONE })).rejects.toThrow(JournalError);
    await rm(path);
    await Journal.open(path, { zone: Name.parse('example.net.') });
    await expect(Journal.open(path, { zone: ZONE })).rejects.toThrow('another zone');
  });

  it('serializes concurrent operations', async () => {
    const j = await Journal.open(path, { zone: ZONE });
    await Promise.all([j.append(cs(1, 2)), j.append(cs(2, 3)), j.append(cs(3, 4))]);
    expect((await j.changesetsSince(1))!.map((c) => c.toSerial)).toEqual([2, 3, 4]);
  });

  it('clear() and destroy()', async () => {
    const j = await Journal.open(path, { zone: ZONE });
    await j.append(cs(1, 2));
    await j.clear();
    expect(j.length).toBe(0);
    expect((await readFile(path)).length).toBe(19);
    await j.destroy();
    await expect(stat(path)).rejects.toThrow();
  });
});
