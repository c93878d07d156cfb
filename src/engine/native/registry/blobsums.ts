import { join } from 'node:path';
import { ensurePrivateDir, statePath } from '../../../util/paths.js';
import { readJsonIfExists, writeJsonAtomic } from '../../../util/atomic.js';
import { withLock } from '../../../util/lock.js';

/**
 * What the registries we talked to call our layers: a layer is stored by its
 * DiffID (the uncompressed tar), a registry serves it as a compressed blob
 * with another digest. Remembering the pairs (as Docker's distribution
 * metadata does) lets a push ask "do you have it?" (HEAD) or mount it from
 * another repository without compressing the layer first, and lets a second
 * push of the same layer find it.
 */

export interface BlobSum {
  digest: string;
  size: number;
  mediaType: string;
  registry: string;
  repository: string;
}

type Table = Record<string, BlobSum[]>;

/** Per layer, the pairs kept (the most recent first). */
const MAX_PER_LAYER = 16;

export class BlobSums {
  constructor(private readonly dir: string = statePath('registry')) {}

  private get file(): string {
    return join(this.dir, 'blobsums.json');
  }

  private read(): Table {
    return readJsonIfExists<Table>(this.file) ?? {};
  }

  /** Known compressed blobs of a layer, most recent first. */
  of(diffId: string): BlobSum[] {
    return this.read()[diffId] ?? [];
  }

  async add(diffId: string, sum: BlobSum): Promise<void> {
    ensurePrivateDir(this.dir);
    await withLock(join(this.dir, 'lock'), () => {
      const table = this.read();
      const same = (s: BlobSum) => s.digest === sum.digest && s.registry === sum.registry && s.repository === sum.repository;
      table[diffId] = [sum, ...(table[diffId] ?? []).filter((s) => !same(s))].slice(0, MAX_PER_LAYER);
      writeJsonAtomic(this.file, table);
    });
  }

  /** Forgets a pair a registry no longer honours (its blob is gone). */
  async remove(diffId: string, sum: Pick<BlobSum, 'digest' | 'registry' | 'repository'>): Promise<void> {
    ensurePrivateDir(this.dir);
    await withLock(join(this.dir, 'lock'), () => {
      const table = this.read();
      const left = (table[diffId] ?? []).filter((s) => !(s.digest === sum.digest && s.registry === sum.registry && s.repository === sum.repository));
      if (left.length) table[diffId] = left;
      else delete table[diffId];
      writeJsonAtomic(this.file, table);
    });
  }
}
