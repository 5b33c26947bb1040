// Transfer-module error replies carry an OPT RR when the request had one (RFC 6891 §7), e.g. AXFR over UDP.

import { describe, expect, it } from 'vitest';
import { TransferServer } from '../../src/transfer/server.js';
import { Rcode, RRClass, RRType } from '../../src/wire/constants.js';
import { decodeMessage, decodeQuery } from '../../src/wire/decode.js';
import { encodeQuery } from '../../src/wire/encode.js';
import { Name } from '../../src/wire/name.js';
import type { ZoneStore } from '../../src/zone/store.js';

function server(): TransferServer {
  // No zones served or configured: every transfer request gets NOTAUTH from the transfer module itself.
  const store = { current: new Map() } as unknown as ZoneStore;
  return new TransferServer({ store, zone: () => undefined, keys: [], onNotify: () => undefined, udpSize: 1400 });
}

function ask(type: number, edns: { readonly do: boolean } | undefined): ReturnType<typeof decodeMessage> {
  const bytes = encodeQuery({
    id: 4242,
    question: { name: Name.parse('example.org.'), type, class: RRClass.IN },
    ...(edns ? { edns: { udpSize: 1232, do: edns.do, options: [] } } : {}),
  });
  const d = decodeQuery(bytes);
  if (d.kind !== 'query') throw new Error('query did not decode');
  const out = server().handle(d.query, bytes, { address: '127.0.0.1', transport: 'udp' } as Parameters<TransferServer['handle']>[2]);
  if (!(out instanceof Uint8Array)) throw new Error('expected a single message');
  return decodeMessage(out);
}

describe('transfer error replies and EDNS', () => {
  it('include an OPT RR (DO echoed) when the request had one, RFC 6891 §7', () => {
    for (const type of [RRType.AXFR, RRType.IXFR]) {
      const withDo = ask(type, { do: true });
      expect(withDo.rcode).toBe(Rcode.NOTAUTH);
      expect(withDo.edns).toBeDefined();
      expect(withDo.edns!.udpSize).toBe(1400);
      expect(withDo.edns!.flags & 0x8000).toBe(0x8000);
      const noDo = ask(type, { do: false });
      expect(noDo.edns).toBeDefined();
      expect(noDo.edns!.flags & 0x8000).toBe(0);
    }
  });

  it('include no OPT RR when the request had none', () => {
    expect(ask(RRType.AXFR, undefined).edns).toBeUndefined();
  });
});
