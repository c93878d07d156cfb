import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { readJsonIfExists, writeJsonAtomic } from '../../../util/atomic.js';
import { processStartTime } from '../../../util/lock.js';
import { UserError } from '../../../util/errors.js';
import { decompressed } from './decompress.js';
import { extractLayer, RECIPE_FILE } from './extract.js';
import { chainIdOf, digestHex, isDigest } from './oci.js';
import { playRecipe, type ContentTable } from './tarsplit.js';
import type { StorePaths } from './layout.js';

/**
 * Layers: each unpacked once, under its chain id, and shared by every image
 * and container whose stack it belongs to. Unpacking happens outside the
 * store lock in a staging dir of this process; only the final rename into
 * place (or the discovery that another process got there first) is locked.
 */

export interface LayerRecord {
  chainId: string;
  diffId: string;
  parent: string | null;
  /** Bytes of regular files and symlink targets, as Docker counts a layer's size. */
  size: number;
  /** Bytes of the uncompressed tar (the blob `save` writes). */
  tarSize: number;
  created: string;
  /** Name of this layer's short symlink under l/. */
  link: string;
}

export interface AddLayerOptions {
  /** Chain id of the layer below, or null/undefined for a base layer. */
  parent?: string | null;
  /** The DiffID the layer must have (from an image config): a mismatch refuses the layer. */
  expectDiffId?: string;
  /** Refuse an uncompressed stream longer than this. */
  maxBytes?: number;
  /** Names the layer in errors. */
  what?: string;
  /** The layer root's mode whatever the tar says (see ExtractOptions). */
  rootMode?: number;
}

/** Called under the store lock once the layer is in place, so that gc cannot take it before an image refers to it. */
export type HoldLayer = (chainId: string) => void;

export interface AddedLayer extends LayerRecord {
  /** False when an identical layer was already there (this stream's copy was dropped). */
  added: boolean;
}

const LAYER_FILE = 'layer.json';
const CONTENTS_FILE = 'contents.json';

export class LayerStore {
  constructor(private readonly paths: StorePaths, private readonly locked: <T>(fn: () => Promise<T> | T) => Promise<T>) {}

  get(chainId: string): LayerRecord | undefined {
    if (!isDigest(chainId)) return undefined;
    return readJsonIfExists<LayerRecord>(join(this.paths.layer(chainId), LAYER_FILE));
  }

  has(chainId: string): boolean {
    return this.get(chainId) !== undefined;
  }

  list(): string[] {
    return readdirSync(this.paths.layers)
      .filter((n) => /^[0-9a-f]{64}$/.test(n) && existsSync(join(this.paths.layers, n, LAYER_FILE)))
      .map((n) => `sha256:${n}`);
  }

  /** A staging dir in tmp/, named so that gc can tell whether its process is still alive. */
  stagingDir(): string {
    const dir = join(this.paths.tmp, `${process.pid}-${processStartTime(process.pid)}-${randomBytes(6).toString('hex')}`);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  /**
   * Unpacks a layer tar (plain or gzip, detected) on top of `parent` and
   * stores it under its chain id; returns its record. A tar that is refused,
   * unreadable, or whose DiffID is not `expectDiffId` leaves nothing behind.
   */
  async add(source: Readable | string, opts: AddLayerOptions, hold: HoldLayer): Promise<AddedLayer> {
    const parent = opts.parent ?? null;
    const what = opts.what ?? (typeof source === 'string' ? `layer ${source}` : 'layer');
    if (parent !== null && !this.has(parent)) throw new Error(`parent layer ${parent} is not in the store`);
    if (typeof source === 'string' && !existsSync(source)) throw new UserError(`open ${source}: no such file or directory`);
    const input = typeof source === 'string' ? createReadStream(source) : source;
    const staging = this.stagingDir();
    let committed = false;
    try {
      const { stream } = await decompressed(input, what);
      const extracted = await extractLayer(stream, staging, { what, ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}), ...(opts.rootMode !== undefined ? { rootMode: opts.rootMode } : {}) });
      if (opts.expectDiffId !== undefined && extracted.diffId !== opts.expectDiffId) {
        throw new UserError(`${what} refused: its content has DiffID ${extracted.diffId}, but the image config says ${opts.expectDiffId}`, 1,
          'The archive is corrupt or was tampered with; nothing of the layer was kept.');
      }
      writeFileSync(join(staging, CONTENTS_FILE), JSON.stringify(extracted.contents), { mode: 0o600 });
      const chainId = chainIdOf(parent, extracted.diffId);
      return await this.locked(() => {
        const existing = this.get(chainId);
        if (existing) {
          this.ensureLink(existing);
          hold(chainId);
          return { ...existing, added: false };
        }
        const record: LayerRecord = {
          chainId,
          diffId: extracted.diffId,
          parent,
          size: extracted.size,
          tarSize: extracted.tarSize,
          created: new Date().toISOString(),
          link: this.chooseLink(chainId),
        };
        writeJsonAtomic(join(staging, LAYER_FILE), record);
        const dest = this.paths.layer(chainId);
        if (existsSync(dest)) rmSync(dest, { recursive: true, force: true }); // a half-deleted leftover without layer.json
        renameSync(staging, dest);
        committed = true;
        this.ensureLink(record);
        hold(chainId);
        return { ...record, added: true };
      });
    } finally {
      if (!committed) rmSync(staging, { recursive: true, force: true });
    }
  }

  /** The layer's tar, byte for byte as it was added; errors if the unpacked files no longer match its DiffID. */
  tarStream(chainId: string): Readable {
    const rec = this.get(chainId);
    if (!rec) throw new Error(`layer ${chainId} is not in the store`);
    const dir = this.paths.layer(chainId);
    const table = JSON.parse(readFileSync(join(dir, CONTENTS_FILE), 'utf8')) as ContentTable;
    return playRecipe(join(dir, RECIPE_FILE), table, dir, rec.diffId);
  }

  /** A short, stable name for l/: the chain id's first hex digits, longer on the (unlikely) clash. */
  private chooseLink(chainId: string): string {
    const hex = digestHex(chainId);
    const target = this.linkTarget(chainId);
    for (let len = 12; len <= 64; len += 4) {
      const name = hex.slice(0, len);
      const at = join(this.paths.links, name);
      let current: string | undefined;
      try { current = readlinkSync(at); } catch { current = undefined; }
      if (current === undefined || current === target) return name;
    }
    throw new Error(`no free short link name for layer ${chainId}`);
  }

  private linkTarget(chainId: string): string {
    return `../layers/${digestHex(chainId)}/diff`;
  }

  /** Makes l/<link> point at the layer (after a crash between rename and symlink, or a manual cleanup). */
  ensureLink(rec: LayerRecord): void {
    const at = join(this.paths.links, rec.link);
    const target = this.linkTarget(rec.chainId);
    let current: string | undefined;
    try { current = readlinkSync(at); } catch { current = undefined; }
    if (current === target) return;
    if (current !== undefined) unlinkSync(at);
    symlinkSync(target, at);
  }

  /** Deletes a layer (caller holds the lock and knows nothing uses it). Renamed away first: never half a layer in place. */
  removeLocked(chainId: string): number {
    const rec = this.get(chainId);
    const dir = this.paths.layer(chainId);
    if (rec) {
      try { unlinkSync(join(this.paths.links, rec.link)); } catch { /* already gone */ }
    }
    const doomed = join(this.paths.tmp, `deleting-${digestHex(chainId)}-${randomBytes(4).toString('hex')}`);
    renameSync(dir, doomed);
    rmSync(doomed, { recursive: true, force: true });
    return rec ? rec.size : 0;
  }

  /** Links in l/ whose layer is gone. */
  pruneLinksLocked(): void {
    for (const name of readdirSync(this.paths.links)) {
      const at = join(this.paths.links, name);
      if (!existsSync(at)) unlinkSync(at);
    }
  }
}
