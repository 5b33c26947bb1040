// Finds and loads one of the native addons that `npm run build` compiles into dist/server/native/ (Linux only).

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The addon `name` (dist/server/native/<name>.node) when it is there and passes `check`, else why not. */
export function loadAddon<T>(name: string, check: (m: unknown) => m is T): { readonly addon?: T; readonly why?: string } {
  if (process.platform !== 'linux') return { why: `not built for ${process.platform} (the addons use Linux calls)` };
  // Next to this module in dist/; from src/ (tests run the TypeScript sources), the copy the build put in dist/.
  const paths = [`./native/${name}.node`, `../../dist/server/native/${name}.node`].map((p) => new URL(p, import.meta.url).pathname);
  const path = paths.find((p) => existsSync(p));
  if (path === undefined) return { why: `${paths[1]} was not built (npm run build needs a C compiler and Node's headers; see README)` };
  try {
    const m: unknown = createRequire(import.meta.url)(path);
    return check(m) ? { addon: m } : { why: `${path} is not the expected addon` };
  } catch (err) {
    return { why: err instanceof Error ? err.message : String(err) };
  }
}
