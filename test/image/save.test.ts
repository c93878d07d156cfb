import { describe, it, expect, beforeAll, afterEach, beforeEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { busyboxRootfsTar } from '../support/images.js';
import { importRootfsTar, sha256Digest, type ImageStore } from '../../src/engine/native/image/index.js';
import { cli, makeTestRoot, type TestRoot } from './helpers.js';
import { makeTar } from './tars.js';

/**
 * What `image save` puts in an archive: each blob once however many images
 * share it, the tags Docker's rules select, and both the legacy manifest and
 * the OCI index pointing at the same blobs; and that a fresh store loads it
 * back to the same images.
 */
let root: TestRoot;
let store: ImageStore;
let busybox: string;

beforeAll(async () => {
  busybox = await busyboxRootfsTar();
});

beforeEach(async () => {
  root = makeTestRoot('tsc-image-save-');
  store = await root.store();
});

afterEach(() => root.cleanup());

function members(archive: string): string[] {
  return execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

function member(archive: string, name: string): string {
  return execFileSync('tar', ['-xOf', archive, name], { encoding: 'utf8' });
}

describe('image save', () => {
  it('writes a shared base layer once, with the legacy manifest and the OCI index agreeing', async () => {
    const { image: base } = await importRootfsTar(store, busybox, { tags: ['bb:1', 'bb:2'] });
    const top = await store.addLayerFromTar(Readable.from([await makeTar([{ name: 'app', content: 'app' }])]), { parent: base.chainIds[0]! });
    const { image: app } = await store.addImage({ ...base.config, rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, top.diffId] } }, { tags: ['app'] });

    const archive = join(root.dir, 'all.tar');
    // `bb` names every tag of the repository; `app` is one more image.
    expect(cli(root, ['image', 'save', '-o', archive, 'bb', 'app']).code).toBe(0);
    const blobs = members(archive).filter((m) => m.startsWith('blobs/sha256/') && m.length > 'blobs/sha256/'.length);
    // 2 configs + 2 manifests + 2 distinct layers (the base once).
    expect(blobs).toHaveLength(6);
    const legacy = JSON.parse(member(archive, 'manifest.json'));
    expect(legacy).toEqual([
      { Config: `blobs/sha256/${base.id.slice(7)}`, RepoTags: ['bb:1', 'bb:2'], Layers: [`blobs/sha256/${base.config.rootfs.diff_ids[0]!.slice(7)}`] },
      { Config: `blobs/sha256/${app.id.slice(7)}`, RepoTags: ['app:latest'], Layers: [...base.config.rootfs.diff_ids, top.diffId].map((d) => `blobs/sha256/${d.slice(7)}`) },
    ]);
    const index = JSON.parse(member(archive, 'index.json'));
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['io.containerd.image.name'])).toEqual([
      'docker.io/library/bb:1', 'docker.io/library/bb:2', 'docker.io/library/app:latest',
    ]);
    expect(JSON.parse(member(archive, 'repositories'))).toEqual({
      bb: { 1: base.config.rootfs.diff_ids[0]!.slice(7), 2: base.config.rootfs.diff_ids[0]!.slice(7) },
      app: { latest: top.diffId.slice(7) },
    });

    // A fresh store loads it back: same ids, tags, and the layer tar byte for byte.
    const other = makeTestRoot('tsc-image-save2-');
    try {
      const loaded = cli(other, ['image', 'load', '-i', archive]);
      expect(loaded.stdout).toBe('Loaded image: bb:1\nLoaded image: bb:2\nLoaded image: app:latest\n');
      const s2 = await other.store();
      expect((await s2.get('bb:2')).id).toBe(base.id);
      expect((await s2.get('app')).id).toBe(app.id);
      const chunks: Buffer[] = [];
      for await (const c of s2.layerTar(base.chainIds[0]!)) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).equals(readFileSync(busybox))).toBe(true);
    } finally {
      other.cleanup();
    }
  });

  it('loads a legacy archive whose layer file is a symlink to another member (docker save shares layers so)', async () => {
    const layer = readFileSync(busybox);
    const diffId = sha256Digest(layer);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } }));
    const archive = join(root.dir, 'legacy.tar');
    writeFileSync(archive, await makeTar([
      { name: 'aaa/layer.tar', type: 'symlink', linkname: '../bbb/layer.tar' },
      { name: 'bbb/layer.tar', content: layer },
      { name: 'cfg.json', content: config },
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['linked:1'], Layers: ['aaa/layer.tar'] }]) },
    ]));
    // A member link that climbs out of the archive is refused (before the good archive puts the layer in the store).
    const evil = join(root.dir, 'evil.tar');
    writeFileSync(evil, await makeTar([
      { name: 'aaa/layer.tar', type: 'symlink', linkname: '../../../etc/passwd' },
      { name: 'cfg.json', content: config },
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['evil:1'], Layers: ['aaa/layer.tar'] }]) },
    ]));
    const r = cli(root, ['image', 'load', '-i', evil]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the member "\.\.\/\.\.\/\.\.\/etc\/passwd"|points outside the archive/);
    expect(cli(root, ['image', 'load', '-i', archive]).stdout).toBe('Loaded image: linked:1\n');
    expect((await store.get('linked:1')).id).toBe(sha256Digest(config));
  });

  it('saves an image named by id without tags, and loads it as an id', async () => {
    const { image } = await importRootfsTar(store, busybox, { tags: ['bb'] });
    const archive = join(root.dir, 'byid.tar');
    expect(cli(root, ['image', 'save', '-o', archive, image.id.slice(7, 19)]).code).toBe(0);
    expect(JSON.parse(member(archive, 'manifest.json'))[0].RepoTags).toBeNull();
    expect(members(archive)).not.toContain('repositories');
    expect(cli(root, ['image', 'rm', 'bb']).code).toBe(0);
    expect(cli(root, ['image', 'load', '-i', archive]).stdout).toBe(`Loaded image ID: ${image.id}\n`);
    expect(cli(root, ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']).stdout).toBe('<none>:<none>\n');
  });
});
