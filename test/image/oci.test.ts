import { describe, it, expect, beforeAll, beforeEach, afterEach } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { busyboxRootfsTar } from '../support/images.js';
import { sha256Digest, ociArchitecture, type ImageStore, type OciDescriptor } from '../../src/engine/native/image/index.js';
import { cli, makeTestRoot, type TestRoot } from './helpers.js';
import { makeTar } from './tars.js';

/**
 * Plain OCI image layouts (what skopeo, buildah, crane and `docker save` 25+
 * write): a dir or a tar, gzip or plain layer blobs, nested and
 * multi-platform indexes; blobs are checked against their digests.
 */
let root: TestRoot;
let store: ImageStore;
let busybox: Buffer;

beforeAll(async () => {
  busybox = readFileSync(await busyboxRootfsTar());
});

beforeEach(async () => {
  root = makeTestRoot('tsc-image-oci-');
  store = await root.store();
});

afterEach(() => root.cleanup());

/** Writes a blob into layout/blobs/sha256 and returns its descriptor. */
function blob(layout: string, mediaType: string, bytes: Buffer, extra: Partial<OciDescriptor> = {}): OciDescriptor {
  const digest = sha256Digest(bytes);
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)), bytes);
  return { mediaType, digest, size: bytes.length, ...extra };
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** An OCI layout holding a two-layer image (busybox gzipped, then a plain layer); returns its config digest. */
async function makeLayout(layout: string, opts: { layerMediaType?: string; layerBytes?: Buffer; nested?: boolean } = {}): Promise<string> {
  const top = await makeTar([{ name: 'etc/motd', content: 'from an OCI layout\n' }]);
  const l1 = blob(layout, opts.layerMediaType ?? 'application/vnd.oci.image.layer.v1.tar+gzip', opts.layerBytes ?? gzipSync(busybox));
  const l2 = blob(layout, 'application/vnd.oci.image.layer.v1.tar', top);
  const config = json({
    architecture: ociArchitecture(), os: 'linux', created: '2024-05-06T07:08:09Z',
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [sha256Digest(busybox), sha256Digest(top)] },
    history: [{ created: '2024-05-06T07:08:09Z', created_by: 'import' }, { created: '2024-05-06T07:08:09Z', created_by: 'motd' }],
  });
  const cfg = blob(layout, 'application/vnd.oci.image.config.v1+json', config);
  const manifest = blob(layout, 'application/vnd.oci.image.manifest.v1+json', json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: cfg, layers: [l1, l2] }),
    { platform: { architecture: ociArchitecture(), os: 'linux' } });
  // A manifest for another platform, whose blobs are not even there: must be skipped, not read.
  const foreign: OciDescriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'e'.repeat(64)}`, size: 10, platform: { architecture: 's390x', os: 'linux' } };
  let entries: OciDescriptor[] = [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'registry.local:5000/team/app:1.0' } }, foreign];
  if (opts.nested) {
    const inner = blob(layout, 'application/vnd.oci.image.index.v1+json', json({ schemaVersion: 2, manifests: [manifest, foreign] }));
    entries = [{ ...inner, annotations: { 'io.containerd.image.name': 'registry.local:5000/team/app:1.0', 'org.opencontainers.image.ref.name': '1.0' } }];
  }
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries }));
  return sha256Digest(config);
}

describe('OCI image layouts', () => {
  it('loads a layout dir with a gzip layer, named by its ref.name', async () => {
    const layout = join(root.dir, 'layout');
    const id = await makeLayout(layout);
    const r = cli(root, ['image', 'load', '-i', layout]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Loaded image: registry.local:5000/team/app:1.0\n');
    const img = await store.get('registry.local:5000/team/app:1.0');
    expect(img.id).toBe(id);
    expect(img.chainIds).toHaveLength(2);
    const ls = cli(root, ['image', 'ls', '--format', '{{.Repository}} {{.Tag}} {{.ID}}']);
    expect(ls.stdout).toBe(`registry.local:5000/team/app 1.0 ${id.slice(7, 19)}\n`);
  });

  it('loads the same layout as a tar, and as a gzipped tar, through a nested index', async () => {
    const layout = join(root.dir, 'layout');
    const id = await makeLayout(layout, { nested: true });
    const tarPath = join(root.dir, 'layout.tar');
    execFileSync('tar', ['-C', layout, '-cf', tarPath, '.']);
    expect(cli(root, ['image', 'load', '-i', tarPath]).stdout).toBe('Loaded image: registry.local:5000/team/app:1.0\n');
    expect((await store.get('registry.local:5000/team/app:1.0')).id).toBe(id);
    expect(cli(root, ['image', 'rm', 'registry.local:5000/team/app:1.0']).code).toBe(0);
    writeFileSync(`${tarPath}.gz`, gzipSync(readFileSync(tarPath)));
    expect(cli(root, ['image', 'load', '-i', `${tarPath}.gz`]).stdout).toBe('Loaded image: registry.local:5000/team/app:1.0\n');
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
  });

  it('refuses a blob whose digest does not match, and keeps nothing', async () => {
    const layout = join(root.dir, 'layout');
    await makeLayout(layout);
    // Corrupt the gzip layer blob in place (same size).
    const blobs = join(layout, 'blobs', 'sha256');
    const big = readdirSync(blobs).map((n) => join(blobs, n)).sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0]!;
    const bytes = readFileSync(big);
    bytes[bytes.length - 20] ^= 0xff;
    writeFileSync(big, bytes);
    const r = cli(root, ['image', 'load', '-i', layout]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/layer 1\/2 \(sha256:[0-9a-f]{64}\) of .*layout (does not match its digest|refused)/);
    expect(readdirSync(join(store.root, 'layers'))).toEqual([]);
    expect(readdirSync(join(store.root, 'images'))).toEqual([]);
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
  });

  it('refuses zstd layers with a sentence that says what to do', async () => {
    const layout = join(root.dir, 'layout');
    const zstdish = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(100)]);
    await makeLayout(layout, { layerMediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', layerBytes: zstdish });
    const r = cli(root, ['image', 'load', '-i', layout]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/layer 1\/2 .* is zstd-compressed, which tscompose cannot read/);
    expect(r.stderr).toMatch(/recompress it with gzip/);
    expect(readdirSync(join(store.root, 'layers'))).toEqual([]);
  });

  it('says what is wrong with an archive that is neither format', async () => {
    const junk = join(root.dir, 'junk.tar');
    writeFileSync(junk, await makeTar([{ name: 'hello.txt', content: 'hi' }]));
    const r = cli(root, ['image', 'load', '-i', junk]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${junk} is neither a docker save archive (no manifest.json) nor an OCI image layout (no index.json)\n`);
    const ancient = join(root.dir, 'ancient.tar');
    writeFileSync(ancient, await makeTar([{ name: 'repositories', content: '{}' }, { name: 'abc/layer.tar', content: '' }]));
    expect(cli(root, ['image', 'load', '-i', ancient]).stderr).toMatch(/is a docker save archive from before Docker 1\.10 \(no manifest\.json\)/);
    const missing = cli(root, ['image', 'load', '-i', join(root.dir, 'nope.tar')]);
    expect(missing.stderr).toMatch(/nope.tar: no such file or directory/);
    rmSync(junk);
  });
});
