// LOC RDATA (RFC 1876): presentation parsing per §3 and printing the way BIND 9.18 does.

import { RdataError } from '../rdata-api.js';
import { type Cursor, type Reader, type Writer } from './text.js';

const EQUATOR = 0x80000000; // RFC 1876 §2: 2^31 represents the equator / prime meridian.
const ALT_BASE = 10000000; // RFC 1876 §2: altitude in cm above a base 100,000 m below the WGS 84 spheroid.

/** Metres with up to two decimals and optional `m` suffix → centimetres; undefined when malformed. */
function metresToCm(text: string, allowNegative: boolean): number | undefined {
  const m = /^(-?)([0-9]+)(?:\.([0-9]{1,2}))?[mM]?$/.exec(text);
  if (!m || (m[1] === '-' && !allowNegative)) return undefined;
  const cm = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] === '-' ? -cm : cm;
}

/** RFC 1876 §2 SIZE/HORIZ PRE/VERT PRE: one byte, mantissa (high nibble) × 10^exponent (low nibble) cm. */
function precisionByte(cm: number): number {
  let exp = 0;
  while (cm >= 10) {
    cm = Math.floor(cm / 10);
    exp++;
  }
  return (cm << 4) | exp;
}

function coord(c: Cursor, maxDeg: number, pos: string, neg: string, what: string): number {
  const deg = c.next(`${what} degrees`);
  if (!/^[0-9]{1,3}$/.test(deg) || Number(deg) > maxDeg) c.fail(`${what} degrees "${deg}" outside 0..${maxDeg}`);
  let ms = Number(deg) * 3600000;
  let t = c.next(`${what} hemisphere`);
  if (/^[0-9]+$/.test(t)) {
    if (Number(t) > 59) c.fail(`${what} minutes "${t}" outside 0..59`);
    ms += Number(t) * 60000;
    t = c.next(`${what} hemisphere`);
    if (/^[0-9]/.test(t)) {
      const s = /^([0-9]{1,2})(?:\.([0-9]{1,3}))?$/.exec(t);
      if (!s || Number(s[1]) > 59) c.fail(`${what} seconds "${t}" outside 0..59.999`);
      ms += Number(s[1]) * 1000 + Number((s[2] ?? '').padEnd(3, '0'));
      t = c.next(`${what} hemisphere`);
    }
  }
  const h = t.toUpperCase();
  if (h !== pos && h !== neg) c.fail(`expected ${pos} or ${neg}, got "${t}"`);
  if (ms > maxDeg * 3600000) c.fail(`${what} beyond ${maxDeg} degrees`);
  return h === pos ? EQUATOR + ms : EQUATOR - ms;
}

/** RFC 1876 §3: `d1 [m1 [s1]] {N|S} d2 [m2 [s2]] {E|W} alt[m] [siz[m] [hp[m] [vp[m]]]]`. */
export function locFromText(c: Cursor, w: Writer): void {
  const lat = coord(c, 90, 'N', 'S', 'latitude');
  const lon = coord(c, 180, 'E', 'W', 'longitude');
  const altText = c.next('altitude');
  const alt = metresToCm(altText, true);
  // RFC 1876 §3: altitude from -100000.00 to 42849672.95 m.
  if (alt === undefined || alt < -ALT_BASE || alt > 0xffffffff - ALT_BASE) c.fail(`bad altitude "${altText}"`);
  // RFC 1876 §3 defaults: size 1 m, horizontal precision 10000 m, vertical precision 10 m.
  const prec = [100, 1000000, 1000];
  const names = ['size', 'horizontal precision', 'vertical precision'];
  for (let k = 0; k < 3 && !c.done; k++) {
    const t = c.next(names[k]!);
    const cm = metresToCm(t, false);
    if (cm === undefined || cm > 9000000000) c.fail(`bad ${names[k]!} "${t}" (0..90000000.00 m)`);
    prec[k] = cm;
  }
  w.u8(0); // RFC 1876 §2: VERSION 0
  for (const p of prec) w.u8(precisionByte(p));
  w.u32(lat);
  w.u32(lon);
  w.u32(alt + ALT_BASE);
}

function precisionText(b: number): string {
  const man = b >> 4;
  const exp = b & 15;
  if (man > 9 || exp > 9) throw new RdataError('LOC precision byte with a digit above 9', 0);
  // A zero mantissa with a non-zero exponent prints like 0 but cannot be read back; BIND rejects it as out of range.
  if (man === 0 && exp !== 0) throw new RdataError('LOC precision byte with a zero mantissa and a non-zero exponent', 0);
  if (exp >= 2) return `${man * 10 ** (exp - 2)}m`;
  return `0.${String(man * 10 ** exp).padStart(2, '0')}m`;
}

function coordText(v: number, maxDeg: number, pos: string, neg: string): string {
  // BIND prints exactly 2^31 (equator / prime meridian) as N / E.
  const north = v >= EQUATOR;
  const ms = north ? v - EQUATOR : EQUATOR - v;
  if (ms > maxDeg * 3600000) throw new RdataError('LOC coordinate out of range', 0);
  const d = Math.floor(ms / 3600000);
  const m = Math.floor(ms / 60000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${d} ${m} ${s}.${String(ms % 1000).padStart(3, '0')} ${north ? pos : neg}`;
}

export function locToText(r: Reader): string {
  const version = r.u8('LOC version');
  // RFC 1876 §2: only version 0 is defined.
  if (version !== 0) throw new RdataError(`LOC version ${version} is not 0`, 0);
  const size = precisionText(r.u8('LOC size'));
  const hp = precisionText(r.u8('LOC horizontal precision'));
  const vp = precisionText(r.u8('LOC vertical precision'));
  const lat = coordText(r.u32('LOC latitude'), 90, 'N', 'S');
  const lon = coordText(r.u32('LOC longitude'), 180, 'E', 'W');
  const altCm = r.u32('LOC altitude') - ALT_BASE;
  const a = Math.abs(altCm);
  const alt = `${altCm < 0 ? '-' : ''}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}m`;
  r.end();
  return `${lat} ${lon} ${alt} ${size} ${hp} ${vp}`;
}
