// Test helpers for transfer tests: build RRs (A, TXT, NS, SOA) from short descriptions.

import { RRClass, RRType } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { NO_META, type RR } from '../../src/zone/model.js';

export const ZONE = Name.parse('example.com.');

export function name(text: string): Name {
  return Name.parse(text, ZONE);
}

export function a(owner: string, ip: string, ttl = 300): RR {
  return { owner: name(owner), type: RRType.A, class: RRClass.IN, ttl, rdata: Uint8Array.from(ip.split('.').map(Number)), meta: NO_META };
}

export function ns(owner: string, target: string, ttl = 3600): RR {
  return { owner: name(owner), type: RRType.NS, class: RRClass.IN, ttl, rdata: name(target).toWire(), meta: NO_META };
}

export function soaRdata(serial: number): Uint8Array {
  const m = name('ns1').toWire();
  const r = name('hostmaster').toWire();
  const out = new Uint8Array(m.length + r.length + 20);
  out.set(m, 0);
  out.set(r, m.length);
  const dv = new DataView(out.buffer);
  const p = m.length + r.length;
  dv.setUint32(p, serial >>> 0);
  dv.setUint32(p + 4, 3600);
  dv.setUint32(p + 8, 600);
  dv.setUint32(p + 12, 86400);
  dv.setUint32(p + 16, 300);
  return out;
}

export function soa(serial: number, ttl = 3600): RR {
  return { owner: ZONE, type: RRType.SOA, class: RRClass.IN, ttl, rdata: soaRdata(serial), meta: NO_META };
}

/** Short text form for assertions: "owner TTL TYPE rdata-hex". */
export function show(rr: RR): string {
  return `${rr.owner.toString()} ${rr.ttl} ${rr.type} ${Buffer.from(rr.rdata).toString('hex')}`;
}
