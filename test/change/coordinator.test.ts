// The cluster side of the change path (src/change/coordinator.ts) with the IPC relay simulated: a follower forwards
// an UPDATE to the leader and relays its RCODE; the leader answers only after every other worker rebuilt the zone.

import { describe, expect, it } from 'vitest';
import { ChangeCoordinator } from '../../src/change/coordinator.js';
import type { UpdateHandler, UpdateRequest } from '../../src/change/update.js';
import type { JsonValue } from '../../src/util/json.js';
import { Rcode } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';

/** Workers joined like cli/serve.ts does: every message goes to every worker (the sender too), asynchronously. */
function cluster(n: number, rebuild: (slot: number, origin: Name) => Promise<string | undefined>, timeoutMs = 10_000) {
  const nodes: ChangeCoordinator[] = [];
  const sent: string[] = [];
  const broadcast = (p: JsonValue): void => {
    sent.push((p as { t: string }).t);
    for (const c of nodes) queueMicrotask(() => c.onMessage(p));
  };
  for (let slot = 0; slot < n; slot++) {
    nodes.push(new ChangeCoordinator({ leader: slot === 0, slot, others: n - 1, broadcast, rebuild: (o) => rebuild(slot, o), timeoutMs }));
  }
  return { nodes, sent };
}

const req = (address: string): UpdateRequest => ({ message: Uint8Array.from([1, 2, 3]), keyName: Name.parse('acme-key.'), address });

describe('ChangeCoordinator', () => {
  it('a follower forwards the UPDATE; the leader applies it and its RCODE comes back', async () => {
    const { nodes, sent } = cluster(2, () => Promise.resolve(undefined));
    const seen: string[] = [];
    nodes[0]!.use({ handle: (r: UpdateRequest) => (seen.push(`${r.address} ${r.keyName?.toString()} ${Array.from(r.message).join(',')}`), Promise.resolve(Rcode.NXRRSET)) } as unknown as UpdateHandler);
    expect(await nodes[1]!.update(req('192.0.2.7'))).toBe(Rcode.NXRRSET);
    expect(seen).toEqual(['192.0.2.7 acme-key. 1,2,3']);
    expect(sent).toEqual(['change.update', 'change.answer']);
  });

  it('publish rebuilds every worker and waits for all of them', async () => {
    const rebuilt: string[] = [];
    const { nodes } = cluster(3, (slot, o) => {
      rebuilt.push(`${slot} ${o.toString()}`);
      return Promise.resolve(slot === 0 ? undefined : 'ignored: only the leader reports');
    });
    expect(await nodes[0]!.publish(Name.parse('example.com.'))).toBeUndefined();
    expect(rebuilt.sort()).toEqual(['0 example.com.', '1 example.com.', '2 example.com.']);
  });

  it("the leader's own load error is returned", async () => {
    const { nodes } = cluster(2, (slot) => Promise.resolve(slot === 0 ? 'z:1: bad' : undefined));
    expect(await nodes[0]!.publish(Name.parse('example.com.'))).toBe('z:1: bad');
  });

  it('a worker that never confirms does not block the answer past the timeout', async () => {
    const rebuilt: number[] = [];
    // One other worker is expected, but the messages go nowhere.
    const leader = new ChangeCoordinator({ leader: true, slot: 0, others: 1, broadcast: () => undefined, rebuild: () => (rebuilt.push(0), Promise.resolve(undefined)), timeoutMs: 200 });
    expect(await leader.publish(Name.parse('example.com.'))).toBeUndefined();
    expect(rebuilt).toEqual([0]);
  });

  it('a forwarded UPDATE the leader never answers is SERVFAIL after the timeout', async () => {
    const follower = new ChangeCoordinator({ leader: false, slot: 1, others: 1, broadcast: () => undefined, rebuild: () => Promise.resolve(undefined), timeoutMs: 100 });
    expect(await follower.update(req('192.0.2.8'))).toBe(Rcode.SERVFAIL);
  });
});
