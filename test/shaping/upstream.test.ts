// The flattening upstream client against scripted loopback servers: TC → TCP retry, SERVFAIL → next resolver,
// timeouts, mismatched replies.

import { afterEach, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { Name } from '../../src/wire/name.js';
import { decodeQuery } from '../../src/wire/decode.js';
import { encodeResponse } from '../../src/wire/encode.js';
import { Flag, RRClass, RRType, Rcode } from '../../src/wire/constants.js';
import { parseHostPort } from '../../src/util/ip.js';
import { upstreamClient } from '../../src/flatten/upstream.js';
import { freePort } from '../helpers/ports.js';
import { QueryEngine } from '../../src/query/pipeline.js';
import { ask, shapedZone, show, storeOf } from './helpers.js';

type Mode = 'tc' | 'servfail' | 'answer' | 'silent' | 'wrong-id';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function reply(query: Uint8Array, mode: Mode, tcp: boolean): Uint8Array {
  const d = decodeQuery(query);
  if (d.kind !== 'query') throw new Error('bad query');
  const q = d.query;
  const a = { owner: q.question.name, type: RRType.A, class: RRClass.IN, ttl: tcp ? 77 : 55, rdata: [Uint8Array.from([192, 0, 2, tcp ? 9 : 8])] };
  return encodeResponse(
    {
      id: mode === 'wrong-id' ? (q.id + 1) & 0xffff : q.id,
      opcode: 0,
      flags: Flag.AA | (q.flags & Flag.RD) | (mode === 'tc' && !tcp ? Flag.TC : 0),
      rcode: mode === 'servfail' ? Rcode.SERVFAIL : Rcode.NOERROR,
      rawQuestion: query.subarray(q.questionOffset, q.questionOffset + q.questionLength),
      answer: mode === 'tc' && !tcp ? [] : mode === 'servfail' ? [] : [a],
      authority: [],
      additional: [],
    },
    65535,
  );
}

async function server(mode: Mode): Promise<{ port: number; udpSeen: () => number; tcpSeen: () => number }> {
  const port = await freePort();
  let udp = 0;
  let tcp = 0;
  const sock: Socket = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    udp++;
    if (mode === 'silent') return;
    sock.send(reply(msg, mode, false), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(port, '127.0.0.1', () => r()));
  const srv: Server = createServer((c) => {
    c.on('data', (buf: Buffer) => {
      tcp++;
      const q = buf.subarray(2, 2 + buf.readUInt16BE(0));
      const out = reply(q, mode, true);
      const frame = Buffer.alloc(2 + out.length);
      frame.writeUInt16BE(out.length, 0);
      frame.set(out, 2);
      c.end(frame);
    });
  });
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
  closers.push(async () => {
    sock.close();
    await new Promise<void>((r) => srv.close(() => r()));
  });
  return { port, udpSeen: () => udp, tcpSeen: () => tcp };
}

function hp(port: number) {
  const r = parseHostPort(`127.0.0.1:${port}`, 53);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

const NAME = Name.parse('external-origin.test.');

describe('upstreamClient', () => {
  it('retries over TCP when the UDP answer is truncated', async () => {
    const s = await server('tc');
    const r = await upstreamClient([hp(s.port)], 1000)(NAME, RRType.A);
    if (r.kind !== 'ok') throw new Error(r.detail);
    expect(r.message.answer.map(show)).toEqual(['external-origin.test. 77 A 192.0.2.9']);
    expect([s.udpSeen(), s.tcpSeen()]).toEqual([1, 1]);
  });

  it('moves on to the next resolver after SERVFAIL or a timeout', async () => {
    const bad = await server('servfail');
    const silent = await server('silent');
    const good = await server('answer');
    const r = await upstreamClient([hp(bad.port), hp(silent.port), hp(good.port)], 200)(NAME, RRType.A);
    if (r.kind !== 'ok') throw new Error(r.detail);
    expect(r.message.answer.map(show)).toEqual(['external-origin.test. 55 A 192.0.2.8']);
    expect(r.server).toBe(`127.0.0.1:${good.port}`);
    expect([bad.udpSeen(), silent.udpSeen(), good.udpSeen()]).toEqual([1, 1, 1]);
  });

  it('reports the last failure when every resolver fails; rejects replies with the wrong ID', async () => {
    const bad = await server('servfail');
    const wrong = await server('wrong-id');
    const r = await upstreamClient([hp(bad.port), hp(wrong.port)], 200)(NAME, RRType.A);
    expect(r).toEqual({ kind: 'fail', reason: 'servfail', detail: `127.0.0.1:${wrong.port}: reply does not match the question` });
    const silent = await server('silent');
    expect(await upstreamClient([hp(silent.port)], 150)(NAME, RRType.A)).toEqual({ kind: 'fail', reason: 'timeout', detail: `127.0.0.1:${silent.port}: no answer within 150 ms` });
    expect(await upstreamClient([], 150)(NAME, RRType.A)).toEqual({ kind: 'fail', reason: 'no-resolvers', detail: 'no flattening resolvers are configured' });
  });
});

describe('flattened answers through the query pipeline and its answer cache', () => {
  it('carry the TTL left, second by second, also when served from the encoded-answer cache', async () => {
    const up = await server('answer');
    const zone = shapedZone('example.com.', '$TTL 3600\n@ SOA ns1 h 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n@ CNAME external-origin.test.\n');
    const e = new QueryEngine(storeOf(zone), { udpSize: 1232, identity: {}, answerCacheEntries: 100, flattening: { resolvers: [hp(up.port)], timeoutMs: 1000, maxChain: 8, staleTtl: 60 } });
    expect((await ask(e, 'example.com.', 'A')).answer).toEqual(['example.com. 55 A 192.0.2.8']);
    expect((await ask(e, 'example.com.', 'A')).answer).toEqual(['example.com. 55 A 192.0.2.8']);
    await new Promise((r) => setTimeout(r, 1100));
    // The upstream said 55 a little over a second ago: 54 left (a frozen cached answer would still say 55).
    expect((await ask(e, 'example.com.', 'A')).answer).toEqual(['example.com. 54 A 192.0.2.8']);
    expect(up.udpSeen()).toBe(1);
  });
});
