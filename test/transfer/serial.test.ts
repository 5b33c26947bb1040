// RFC 1982 serial arithmetic and serial bump policies.

import { describe, expect, it } from 'vitest';
import { nextSerial, serialAdd, serialCompare, serialGt, serialLt } from '../../src/transfer/serial.js';

describe('RFC 1982 serial arithmetic', () => {
  it('compares without wrap', () => {
    expect(serialCompare(1, 2)).toBe(-1);
    expect(serialCompare(2, 1)).toBe(1);
    expect(serialCompare(7, 7)).toBe(0);
    expect(serialCompare(0, 0x7fffffff)).toBe(-1);
  });
  it('compares across the wrap', () => {
    expect(serialCompare(0xffffffff, 1)).toBe(-1);
    expect(serialCompare(1, 0xffffffff)).toBe(1);
    expect(serialCompare(0xffffffff, 0)).toBe(-1);
    expect(serialGt(0, 0xffffffff)).toBe(true);
    expect(serialLt(0xfffffff0, 5)).toBe(true);
  });
  it('is undefined exactly 2^31 apart', () => {
    expect(serialCompare(0, 0x80000000)).toBeUndefined();
    expect(serialCompare(0x80000000, 0)).toBeUndefined();
    expect(serialCompare(5, 0x80000005)).toBeUndefined();
    expect(serialGt(0, 0x80000000)).toBe(false);
    expect(serialLt(0, 0x80000000)).toBe(false);
    expect(serialCompare(0, 0x80000001)).toBe(1);
    expect(serialCompare(0, 0x7fffffff)).toBe(-1);
  });
  it('adds modulo 2^32', () => {
    expect(serialAdd(0xffffffff, 1)).toBe(0);
    expect(serialAdd(0xfffffffe, 5)).toBe(3);
    expect(serialAdd(10, 0x7fffffff)).toBe(0x80000009);
    expect(() => serialAdd(1, 0x80000000)).toThrow(RangeError);
    expect(() => serialAdd(1, -1)).toThrow(RangeError);
  });
});

describe('serial policies', () => {
  const now = new Date(Date.UTC(2024, 2, 5, 12, 0, 0)); // 2024-03-05, unix 1709640000
  it('keep and increment', () => {
    expect(nextSerial(41, 'keep', now)).toBe(41);
    expect(nextSerial(41, 'increment', now)).toBe(42);
    expect(nextSerial(0xffffffff, 'increment', now)).toBe(0);
  });
  it('unixtime', () => {
    expect(nextSerial(2024030501, 'unixtime', now)).toBe(2024030502); // date-style serial is "ahead" of unix time
    expect(nextSerial(1, 'unixtime', now)).toBe(1709640000);
    expect(nextSerial(1709640000, 'unixtime', now)).toBe(1709640001);
    expect(nextSerial(1709649999, 'unixtime', now)).toBe(1709650000);
  });
  it('dateserial', () => {
    expect(nextSerial(2024030400, 'dateserial', now)).toBe(2024030500);
    expect(nextSerial(2024030500, 'dateserial', now)).toBe(2024030501);
    expect(nextSerial(2024030517, 'dateserial', now)).toBe(2024030518);
    expect(nextSerial(1, 'dateserial', now)).toBe(2024030500);
    expect(nextSerial(2024039999, 'dateserial', now)).toBe(2024040000);
  });
});
