// Tests of the type bit map and the hex/base64/base32hex encoders used by the RDATA codecs.

import { describe, expect, it } from 'vitest';
import { typeBitmapFromWire, typeBitmapHas, typeBitmapToWire } from '../../src/wire/rdata/bitmap.js';
import {
  base32hexDecode, base32hexEncode, base64Decode, hexDecode, hexEncode, splitChunks,
} from '../../src/wire/rdata/encoding.js';
import { RdataError } from '../../src/wire/rdata-api.js';
import { hex } from './helpers.js';

describe('type bit map (RFC 4034 §4.1.2)', () => {
  it('encodes windows in order without trailing zeros', () => {
    expect(hex(typeBitmapToWire([47, 1, 46, 15, 1]))).toBe('0006400100000003');
    expect(hex(typeBitmapToWire([65280]))).toBe('ff0180');
    expect(hex(typeBitmapToWire([]))).toBe('');
  });
  it('decodes and looks up', () => {
    const w = typeBitmapToWire([1, 2, 6, 46, 48, 51, 257, 65535]);
    expect(typeBitmapFromWire(w)).toEqual([1, 2, 6, 46, 48, 51, 257, 65535]);
    expect(typeBitmapHas(w, 48)).toBe(true);
    expect(typeBitmapHas(w, 47)).toBe(false);
    expect(typeBitmapHas(w, 65535)).toBe(true);
    expect(typeBitmapHas(w, 300)).toBe(false);
  });
  it('rejects malformed maps', () => {
    expect(() => typeBitmapFromWire(Uint8Array.of(0, 0))).toThrow(RdataError);
    expect(() => typeBitmapFromWire(Uint8Array.of(0, 33, ...new Array<number>(33).fill(1)))).toThrow(/1..32/);
    expect(() => typeBitmapFromWire(Uint8Array.of(1, 1, 0x40, 0, 1, 0x40))).toThrow(/increasing/);
    expect(() => typeBitmapFromWire(Uint8Array.of(0, 2, 0x40))).toThrow(/past the end/);
  });
});

describe('encodings', () => {
  it('hex', () => {
    expect(hexEncode(Uint8Array.of(0, 0xab, 0xff))).toBe('00ABFF');
    expect(hex(hexDecode('00aBfF')!)).toBe('00abff');
    expect(hexDecode('abc')).toBeUndefined();
    expect(hexDecode('zz')).toBeUndefined();
  });
  it('base64 strict', () => {
    expect(hex(base64Decode('AQID')!)).toBe('010203');
    expect(base64Decode('AQI=')?.length).toBe(2);
    expect(base64Decode('AQJ=')).toBeUndefined();
    expect(base64Decode('AQI')).toBeUndefined();
    expect(base64Decode('A=QI')).toBeUndefined();
  });
  it('base32hex (RFC 4648 §10 test vectors, unpadded)', () => {
    const enc = (s: string): string => base32hexEncode(Buffer.from(s));
    expect(['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar'].map(enc)).toEqual([
      '', 'CO', 'CPNG', 'CPNMU', 'CPNMUOG', 'CPNMUOJ1', 'CPNMUOJ1E8',
    ]);
    expect(Buffer.from(base32hexDecode('cpnmuoj1e8')!).toString()).toBe('foobar');
    expect(base32hexDecode('CPNMUOJ1E')).toBeUndefined();
    expect(base32hexDecode('CP')).toBeUndefined();
    expect(base32hexDecode('CW')).toBeUndefined();
  });
  it('splitChunks', () => {
    expect(splitChunks('abcdefg', 3)).toBe('abc def g');
    expect(splitChunks('abc', 3)).toBe('abc');
  });
});
