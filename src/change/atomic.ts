// Crash-safe replacement of a zone file: temp file in the same directory (same mode as the file), fsync, rename
// over the file, fsync the directory. A crash at any point leaves the old file or the new one, never a mix.

import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.apexdns-${process.pid}-${Date.now()}.tmp`);
  const mode = await stat(path).then((s) => s.mode & 0o7777, () => 0o644);
  const h = await open(tmp, 'wx', mode);
  try {
    try {
      await h.writeFile(data);
      await h.chmod(mode);
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  // The rename is durable once the directory entry is.
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
