// End to end: the signing budget (issue 15, random-subdomain floods on live-signed zones). Over the budget, a UDP
// answer that needs a one-off signature is an empty TC=1 reply; TCP and existing names are always answered signed.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonBuilt, startDaemon, type DaemonServer } from '../helpers/daemon.js';
import { buildQuery, queryTcp, queryUdp } from '../helpers/dig.js';
import { parseMessage } from '../helpers/dnsmsg.js';
import { childZoneText } from './setup.js';

const built = daemonBuilt();
const RATE = 5;
const FLOOD = 60;
const RRSIG = 46;

describe.skipIf('skip' in built)('signing budget', () => {
  let dir = '';
  let d: DaemonServer | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apexdns-signing-budget-'));
    const file = join(dir, 'b.test.zone');
    writeFileSync(file, childZoneText('b.test.'));
    d = await startDaemon([{ name: 'b.test.', file }], {
      extra: { 'signing-budget': { 'per-second': RATE }, zones: [{ name: 'b.test', file, dnssec: { state: 'active', denial: 'compact', keys: join(dir, 'keys') } }] },
    });
  }, 30_000);

  afterAll(async () => {
    await d?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`a burst of ${FLOOD} new names over UDP: about ${RATE} a second are signed, the rest truncated; TCP still signs`, async () => {
    const started = Date.now();
    let signed = 0;
    let truncated = 0;
    for (let i = 0; i < FLOOD; i++) {
      const m = parseMessage(await queryUdp(d!.port, buildQuery({ name: `flood-${i}.b.test`, type: 'A', edns: { udpSize: 1232, do: true } })));
      if (m.tc) {
        truncated++;
        expect([m.answer.length, m.authority.length]).toEqual([0, 0]);
        expect(m.question[0]?.name.toLowerCase()).toBe(`flood-${i}.b.test.`);
      } else {
        signed++;
        expect(m.authority.some((r) => r.type === RRSIG)).toBe(true);
      }
    }
    const seconds = (Date.now() - started) / 1000;
    // A full bucket (RATE) at the start, then RATE a second; the startup probe took none (it asked SOA).
    expect(signed).toBeGreaterThanOrEqual(RATE);
    expect(signed).toBeLessThanOrEqual(RATE + Math.ceil(seconds * RATE) + 1);
    expect(signed + truncated).toBe(FLOOD);
    // The same kind of question over TCP: no budget.
    for (let i = 0; i < 3; i++) {
      const t = parseMessage(await queryTcp(d!.port, buildQuery({ name: `tcp-${i}.b.test`, type: 'A', edns: { udpSize: 1232, do: true } })));
      expect(t.tc).toBe(false);
      expect(t.authority.some((r) => r.type === RRSIG)).toBe(true);
    }
    // An existing name over UDP, with the budget spent: signed from the signature cache.
    const w = parseMessage(await queryUdp(d!.port, buildQuery({ name: 'www.b.test', type: 'A', edns: { udpSize: 1232, do: true } })));
    expect(w.tc).toBe(false);
    expect(w.answer.map((r) => r.type)).toEqual([1, RRSIG]);
  });
});
