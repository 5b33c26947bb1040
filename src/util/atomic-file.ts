// Crash-safe replacement of a file: temp file in the same directory, fsync, rename over the file, fsync the
// directory. A crash at any point leaves the old file or the new one, never a mix (zone files, keys, state).

import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** `mode`: the new file's permissions (default: the old file's, or 0644 for a new one). */
export async function writeFileAtomic(path: string, data: Uint8Array | string, fixedMode?: number): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.apexdns-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  const mode = fixedMode ?? (await stat(path).then((s) => s.mode & 0o7777, () => 0o644));
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
  // The rename is durable once the directory entry is (some filesystems refuse fsync on a directory; the rename
  // is atomic all the same).
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // see above
  }
}
