// The layering rule of the architecture: each src/ folder imports only the layers below it, and no file imports
// itself back through others (wire ← zone ← query/dnssec ← transfer ← change ← server/http ← cli).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/daemon.js';

const SRC = join(REPO_ROOT, 'src');

/** What each folder may import (besides itself). app.ts and cli/ sit on top and may import anything. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  util: [],
  wire: ['util'],
  zone: ['wire', 'util'],
  flatten: ['wire', 'util'],
  dnssec: ['wire', 'zone', 'util'],
  query: ['wire', 'zone', 'util', 'flatten', 'dnssec'],
  config: ['wire', 'zone', 'util', 'flatten', 'dnssec'],
  transfer: ['wire', 'zone', 'util', 'flatten', 'dnssec', 'query', 'config'],
  // Live changes (issue 13): above zone/dnssec, beside transfer, whose journal, ACLs and serial arithmetic it uses.
  change: ['wire', 'zone', 'util', 'dnssec', 'config', 'transfer'],
  server: ['wire', 'util'],
  // Beside server/: the HTTP side (metrics) reads figures the query layer keeps.
  http: ['wire', 'util', 'query'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)(?:import|export)[^'";]*?from '(\.[^']+)'/g)].map((m) => normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'));
}

const folder = (f: string): string => relative(SRC, f).split('/')[0]!;

describe('src/ layering', () => {
  const all = files(SRC);
  const graph = new Map(all.map((f) => [f, imports(f)]));

  it('every folder imports only the layers below it', () => {
    const bad: string[] = [];
    for (const [f, deps] of graph) {
      const from = folder(f);
      const allowed = ALLOWED[from];
      if (allowed === undefined) continue;
      for (const d of deps) {
        const to = folder(d);
        if (to !== from && !allowed.includes(to)) bad.push(`${relative(SRC, f)} imports ${relative(SRC, d)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('no import circles between files', () => {
    const state = new Map<string, 1 | 2>();
    const cycles: string[] = [];
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 1);
      stack.push(f);
      for (const d of graph.get(f) ?? []) {
        if (state.get(d) === 1) cycles.push([...stack.slice(stack.indexOf(d)), d].map((x) => relative(SRC, x)).join(' → '));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 2);
    };
    for (const f of all) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
