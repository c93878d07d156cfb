import { describe, it, expect, beforeAll, afterEach, beforeEach } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfsTar } from '../support/images.js';
import { repoRoot } from '../support/cache.js';
import type { ImageStore } from '../../src/engine/native/image/index.js';
import { makeTestRoot, type TestRoot } from './helpers.js';

/**
 * Several tscompose processes on one store at once: imports of the same tar
 * and prunes racing them. The store must come out consistent: every import's
 * image present and mountable, the shared layer unpacked once, no staging
 * debris, valid records.
 */
let root: TestRoot;
let store: ImageStore;
let busybox: string;

beforeAll(async () => {
  busybox = await busyboxRootfsTar();
});

beforeEach(async () => {
  root = makeTestRoot('tsc-image-conc-');
  store = await root.store();
});

afterEach(async () => {
  for (let i = 0; i < 4; i++) await store.releaseRootfs(String(i).repeat(64));
  root.cleanup();
});

function tscompose(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(repoRoot, 'bin', 'tscompose'), args, { env: root.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b; });
    child.stderr.on('data', (b: Buffer) => { stderr += b; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('concurrent tscompose processes', () => {
  it('4 imports at once (with prunes racing them) leave a consistent store', async () => {
    const runs = await Promise.all([
      ...[0, 1, 2, 3].map((i) => tscompose(['image', 'import', busybox, `conc:${i}`])),
      tscompose(['image', 'prune', '-f']),
      tscompose(['image', 'prune', '-f']),
    ]);
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const ids = runs.slice(0, 4).map((r) => r.stdout.trim());
    const images = await store.list();
    // Two imports may make the very same image: the config differs only in its creation time (in ms),
    // and two processes let through the layer's lock one after the other can read the same clock
    // millisecond (Docker gives such configs one id too). So tags are counted, not images.
    expect(images.flatMap((i) => i.repoTags).sort()).toEqual(['conc:0', 'conc:1', 'conc:2', 'conc:3']);
    for (const [i, id] of ids.entries()) expect((await store.get(`conc:${i}`)).id).toBe(id);
    // One layer for all four: the same tar, unpacked once and kept once.
    expect(readdirSync(join(store.root, 'layers'))).toHaveLength(1);
    expect(new Set(images.map((i) => i.chainIds[0])).size).toBe(1);
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
    expect(readdirSync(join(store.root, 'holds'))).toEqual([]);
    expect(existsSync(join(store.root, 'lock'))).toBe(false);
    JSON.parse(readFileSync(join(store.root, 'repositories.json'), 'utf8'));
    for (let i = 0; i < 4; i++) {
      const cid = String(i).repeat(64);
      await store.prepareRootfs(cid, `conc:${i}`);
      expect(existsSync(join(await store.mountRootfs(cid), 'bin/busybox'))).toBe(true);
    }
  });

  it('a gc racing an unfinished add keeps the held layer', async () => {
    // The layer is in place but no image refers to it yet: this process holds it.
    const layer = await store.addLayerFromTar(busybox);
    const other = await tscompose(['image', 'prune', '-a', '-f']);
    expect(other.code).toBe(0);
    expect(store.layer(layer.chainId)).toBeDefined();
    const { image } = await store.addImage({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.diffId] } }, { tags: ['held'] });
    expect(readdirSync(join(store.root, 'holds'))).toEqual([]);
    // Once an image has it, prune -a takes both away.
    const pruned = await tscompose(['image', 'prune', '-a', '-f']);
    expect(pruned.stdout).toContain(`deleted: ${image.id}`);
    expect(store.layer(layer.chainId)).toBeUndefined();
  });
});
