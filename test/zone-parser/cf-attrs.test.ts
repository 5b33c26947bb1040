// Tests for Cloudflare cf_tags comment attributes (seed "Import and export records" → DNS record attributes).
import { describe, expect, it } from 'vitest';
import { parseRecordComment } from '../../src/zone/cf-attrs.js';

describe('parseRecordComment', () => {
  it('keeps a plain comment', () => {
    expect(parseRecordComment(' just a comment without tags')).toEqual({
      comment: 'just a comment without tags', tags: [], proxied: false, proxiedExplicit: false, flatten: false, errors: [],
    });
  });
  it('empty comment has no comment field', () => {
    const r = parseRecordComment('   ');
    expect(r).toEqual({ tags: [], proxied: false, proxiedExplicit: false, flatten: false, errors: [] });
    expect('comment' in r).toBe(false);
  });
  it('only tags', () => {
    expect(parseRecordComment('   cf_tags=awesome')).toEqual({
      tags: [{ name: 'awesome' }], proxied: false, proxiedExplicit: false, flatten: false, errors: [],
    });
  });
  it('quoted JSON values, empty values', () => {
    const r = parseRecordComment(
      ' cf_tags=tag1,tag2:value2,tag3:"value,with,commas",tag4:"value with \\"escaped\\" quotation marks",e1:"",e2:,e3',
    );
    expect(r.errors).toEqual([]);
    expect(r.comment).toBeUndefined();
    expect(r.tags).toEqual([
      { name: 'tag1' },
      { name: 'tag2', value: 'value2' },
      { name: 'tag3', value: 'value,with,commas' },
      { name: 'tag4', value: 'value with "escaped" quotation marks' },
      { name: 'e1' },
      { name: 'e2' },
      { name: 'e3' },
    ]);
  });
  it('comment that contains cf_tags= as text, with the extra trailing cf_tags=', () => {
    expect(parseRecordComment(' this comment contains cf_tags= as text cf_tags=')).toEqual({
      comment: 'this comment contains cf_tags= as text', tags: [], proxied: false, proxiedExplicit: false, flatten: false, errors: [],
    });
  });
  it('comment and tags', () => {
    expect(parseRecordComment(' simple example cf_tags=important,ticket:THIS-12345')).toEqual({
      comment: 'simple example', tags: [{ name: 'important' }, { name: 'ticket', value: 'THIS-12345' }],
      proxied: false, proxiedExplicit: false, flatten: false, errors: [],
    });
    const f = parseRecordComment(
      ' this is the comment cf_tags=tag1:value1,tag2:value2,tag-without-value,another-tag-without-value,tag-with-quoted-value:"because of the comma, quotes are needed"',
    );
    expect(f.comment).toBe('this is the comment');
    expect(f.tags).toEqual([
      { name: 'tag1', value: 'value1' },
      { name: 'tag2', value: 'value2' },
      { name: 'tag-without-value' },
      { name: 'another-tag-without-value' },
      { name: 'tag-with-quoted-value', value: 'because of the comma, quotes are needed' },
    ]);
  });
  it('reserved cf- tags', () => {
    expect(parseRecordComment(' cf_tags=test:1,cf-flatten-cname')).toEqual({
      tags: [{ name: 'test', value: '1' }], proxied: false, proxiedExplicit: false, flatten: true, errors: [],
    });
    expect(parseRecordComment(' cf_tags=cf-proxied:false')).toEqual({
      tags: [], proxied: false, proxiedExplicit: true, flatten: false, errors: [],
    });
    expect(parseRecordComment(' cf_tags=tag-without-value,cf-proxied:true')).toEqual({
      tags: [{ name: 'tag-without-value' }], proxied: true, proxiedExplicit: true, flatten: false, errors: [],
    });
    expect(parseRecordComment('cf_tags=CF-Proxied:TRUE').proxied).toBe(true);
  });
  it('reports bad reserved values', () => {
    expect(parseRecordComment(' cf_tags=cf-proxied:yes').errors).toEqual(['cf-proxied needs the value true or false, not "yes"']);
    expect(parseRecordComment(' cf_tags=cf-proxied').errors).toEqual(['cf-proxied needs the value true or false, not ""']);
    expect(parseRecordComment(' cf_tags=cf-flatten-cname:maybe').errors).toEqual(['cf-flatten-cname takes no value, not "maybe"']);
  });
  it('reports malformed tag lists and keeps the text as comment', () => {
    const r = parseRecordComment(' note cf_tags=a:b"c');
    expect(r.errors).toEqual(['bad cf_tags: value of tag "a" contains "\\"" and must be quoted']);
    expect(r.comment).toBe('note cf_tags=a:b"c');
    expect(r.tags).toEqual([]);
    expect(parseRecordComment('cf_tags=a:"x').errors).toEqual(['bad cf_tags: unterminated quoted value of tag "a"']);
    expect(parseRecordComment('cf_tags=a:"x"y').errors).toEqual(['bad cf_tags: unexpected text after the quoted value of tag "a"']);
    expect(parseRecordComment('cf_tags=a,,b').errors).toEqual(['bad cf_tags: bad tag name at ",b"']);
    expect(parseRecordComment('cf_tags=a.b').errors).toEqual(['bad cf_tags: unexpected "." after tag name "a"']);
    expect(parseRecordComment('cf_tags=a b').errors).toEqual(['bad cf_tags: unexpected "b" after tag name "a"']);
  });
  it('a quoted value may contain cf_tags=', () => {
    const r = parseRecordComment(' x cf_tags=k:"cf_tags=1"');
    expect(r.comment).toBe('x');
    expect(r.tags).toEqual([{ name: 'k', value: 'cf_tags=1' }]);
  });
});
