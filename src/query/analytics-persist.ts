// Analytics rollups across restarts: each serving process saves its recorder under state-dir, atomically.

import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-file.js';
import { join } from 'node:path';
import type { AnalyticsRecorder, SavedRecorder } from './analytics.js';

/** The directory under state-dir, and one file per worker slot. */
export const ANALYTICS_DIR = 'analytics';
const fileOf = (dir: string, slot: number): string => join(dir, `worker-${slot}.json`);

/** Write the recorder to `<stateDir>/analytics/worker-<slot>.json`, atomically. */
export async function saveAnalytics(stateDir: string, slot: number, rec: AnalyticsRecorder): Promise<void> {
  const dir = join(stateDir, ANALYTICS_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(fileOf(dir, slot), JSON.stringify(rec.save()), 0o600);
}

/**
 * Restore this slot's saved rollups. Slot 0 also takes over the files of slots that no longer exist (fewer
 * workers than before) and removes them, so no history is lost when the worker count shrinks. Unreadable files
 * are skipped (returned as messages for the log).
 */
export async function loadAnalytics(stateDir: string, slot: number, workers: number, rec: AnalyticsRecorder, nowS: number): Promise<string[]> {
  const dir = join(stateDir, ANALYTICS_DIR);
  const problems: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return problems;
  }
  for (const n of names) {
    const m = /^worker-(\d+)\.json$/.exec(n);
    if (m === null) continue;
    const s = Number(m[1]);
    const orphan = slot === 0 && s >= workers;
    if (s !== slot && !orphan) continue;
    try {
      rec.restore(JSON.parse(await readFile(join(dir, n), 'utf8')) as SavedRecorder, nowS);
      if (orphan) await unlink(join(dir, n));
    } catch (e) {
      problems.push(`${join(dir, n)}: ${(e as Error).message}`);
    }
  }
  return problems;
}
