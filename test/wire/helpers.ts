// Test helpers for the wire codec: building names, RDATA and sections tersely, and a seeded PRNG.

import { Name } from '../../src/wire/name.js';
import { RRType, RRClass } from '../../src/wire/constants.js';
import type { SectionEntry } from '../../src/wire/message.js';

export const n = (text: string): Name => Name.parse(text);

export function concat(...parts: readonly (Uint8Array | readonly number[])[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const u16 = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];
export const u32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
export const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export const aRdata = (a: string): Uint8Array => new Uint8Array(a.split('.').map(Number));
export const nameRdata = (name: string): Uint8Array => n(name).toWire();
export const mxRdata = (pref: number, name: string): Uint8Array => concat(u16(pref), n(name).toWire());
export function soaRdata(mname: string, rname: string, serial: number): Uint8Array {
  return concat(n(mname).toWire(), n(rname).toWire(), u32(serial), u32(7200), u32(3600), u32(1209600), u32(300));
}
export function txtRdata(s: string): Uint8Array {
  return concat([s.length], ascii(s));
}

export function rrset(owner: string, type: number, ttl: number, ...rdata: Uint8Array[]): SectionEntry {
  return { owner: n(owner), type, class: RRClass.IN, ttl, rdata };
}

export const T = RRType;

export { prng } from '../helpers/prng.js';
