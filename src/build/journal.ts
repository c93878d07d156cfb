import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, statePath } from '../util/paths.js';
import { readJsonIfExists, writeJsonAtomic } from '../util/atomic.js';
import { processStartTime } from '../util/lock.js';
import type { ImageStore } from '../engine/native/image/index.js';

/**
 * The untagged images a build makes for its RUN steps, written down as they
 * are made (build/inflight/<pid>-<start>.json), so that a build killed
 * before it could remove them has them removed by the next one: a crash
 * leaves no half-made image behind for long.
 */
export class BuildJournal {
  private readonly ids = new Set<string>();
  private readonly file: string;

  constructor(private readonly dir: string = statePath('build', 'inflight')) {
    this.file = join(dir, `${process.pid}-${processStartTime(process.pid)}-${Math.random().toString(36).slice(2, 8)}.json`);
  }

  add(id: string): void {
    this.ids.add(id);
    ensurePrivateDir(this.dir);
    writeJsonAtomic(this.file, [...this.ids]);
  }

  done(): void {
    rmSync(this.file, { force: true });
  }

  /**
   * Removes the images of builds whose process is gone, and their journals.
   * An image a leftover RUN container still uses stays (with its journal,
   * for the next try); `pending` counts them.
   */
  static async recover(store: ImageStore, dir: string = statePath('build', 'inflight')): Promise<{ removed: number; pending: number }> {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return { removed: 0, pending: 0 };
    }
    let removed = 0;
    let pending = 0;
    for (const name of names) {
      const owner = /^(\d+)-(\d+)-/.exec(name);
      if (owner && processStartTime(Number(owner[1])) === owner[2]) continue;
      const left: string[] = [];
      for (const id of readJsonIfExists<string[]>(join(dir, name)) ?? []) {
        if (!(await store.resolve(id))) continue;
        if (await store.remove(id).then(() => true, () => false)) removed++;
        else left.push(id);
      }
      pending += left.length;
      if (left.length) writeJsonAtomic(join(dir, name), left);
      else rmSync(join(dir, name), { force: true });
    }
    return { removed, pending };
  }
}
