import { describe, it, expect } from 'vitest';
import { gzipSync } from 'node:zlib';
import { createServer, request as httpRequest } from 'node:http';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageStore, MediaType, sha256Digest, type OciImage } from '../../src/engine/native/image/index.js';
import { pullImage, pushImage, RepositoryClient } from '../../src/engine/native/registry/index.js';
import { makeRuntimeRoot } from '../runtime/helpers.js';
import { makeTar } from '../image/tars.js';
import { registryFixture } from './fixture.js';

/**
 * Acceptance 1, the hostile half: a blob whose bytes are not its digest is
 * refused and nothing of it is kept; a multi-platform index (amd64, arm64
 * and an attestation) yields the linux/amd64 image.
 */

const fx = registryFixture();

function storeIsEmpty(store: ImageStore): void {
  expect(readdirSync(join(store.root, 'images'))).toEqual([]);
  expect(store.layers.list()).toEqual([]);
  expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
}

/** Uploads a blob in one PUT (the test's own pushes of hand-made images). */
async function putBlob(client: RepositoryClient, bytes: Buffer): Promise<{ digest: string; size: number }> {
  const r = await client.pushSmallBlob(bytes);
  return { digest: r.digest, size: r.size };
}

describe('registry: what is pulled is what the digests say', () => {
  it('refuses a layer blob corrupted in the registry, keeps nothing, and converges once it is fixed', async () => {
    const registry = await fx.start('none');
    const root = await makeRuntimeRoot();
    const ref = `${registry.host}/corrupt/busybox:1`;
    await root.store.tag('busybox:latest', ref);
    const pushed = await pushImage(root.store, ref);
    const file = registry.blobFile(pushed.layers[0]!.digest);
    const good = readFileSync(file);

    // The last byte (gzip's length trailer): only the digest can tell.
    const bad = Buffer.from(good);
    bad[bad.length - 1] ^= 0xff;
    writeFileSync(file, bad);
    const store2 = await fx.emptyStore();
    await expect(pullImage(store2, ref)).rejects.toThrow(new RegExp(`layer ${pushed.layers[0]!.digest}.* refused: its content hashes to sha256:[0-9a-f]{64}, not to its digest`));
    storeIsEmpty(store2);

    // A byte in the middle: refused too (the decompressor or the digest notices first), nothing kept.
    const mid = Buffer.from(good);
    mid[mid.length >> 1] ^= 0x55;
    writeFileSync(file, mid);
    await expect(pullImage(store2, ref)).rejects.toThrow(/refused/);
    storeIsEmpty(store2);

    writeFileSync(file, good);
    const pulled = await pullImage(store2, ref);
    expect(pulled.image.id).toBe((await root.store.get(ref)).id);
  });

  it('downloads a layer again when the connection breaks in the middle of it', async () => {
    const registry = await fx.start('none');
    const root = await makeRuntimeRoot();
    const upstream = registry.host;
    let cut = 0;
    // A proxy that breaks the first blob download after half of its bytes.
    const proxy = createServer((req, res) => {
      const up = httpRequest({ host: '127.0.0.1', port: Number(upstream.split(':')[1]), path: req.url, method: req.method, headers: { ...req.headers, host: upstream } }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        const isLayer = /\/blobs\/sha256:/.test(req.url ?? '') && Number(ur.headers['content-length']) > 100_000;
        if (isLayer && cut === 0) {
          cut++;
          let sent = 0;
          const half = Number(ur.headers['content-length']) / 2;
          ur.on('data', (c: Buffer) => {
            if (sent > half) return;
            sent += c.length;
            res.write(c);
            if (sent > half) res.socket?.destroy();
          });
          return;
        }
        ur.pipe(res);
      });
      req.pipe(up);
    });
    const port = await new Promise<number>((r) => proxy.listen(0, '127.0.0.1', () => r((proxy.address() as { port: number }).port)));
    try {
      const ref = `127.0.0.1:${port}/flaky/busybox:1`;
      await root.store.tag('busybox:latest', ref);
      await pushImage(root.store, ref);
      const store2 = await fx.emptyStore();
      const events: string[] = [];
      const pulled = await pullImage(store2, ref, { onProgress: (p) => events.push(p.status) });
      expect(cut).toBe(1);
      expect(events.some((e) => e.startsWith('Retrying'))).toBe(true);
      expect(pulled.image.id).toBe((await root.store.get(ref)).id);
      expect(readdirSync(join(store2.root, 'tmp'))).toEqual([]);
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it('refuses a config blob whose bytes changed', async () => {
    const registry = await fx.start('none');
    const root = await makeRuntimeRoot();
    const ref = `${registry.host}/corrupt/config:1`;
    await root.store.tag('busybox:latest', ref);
    await pushImage(root.store, ref);
    const id = (await root.store.get(ref)).id;
    const file = registry.blobFile(id);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"os":"linux"', '"os":"linuX"'));
    const store2 = await fx.emptyStore();
    await expect(pullImage(store2, ref)).rejects.toThrow(new RegExp(`blob ${id} of .* refused: its content hashes to`));
    storeIsEmpty(store2);
  });

  it('picks linux/amd64 from an OCI index with arm64 and an attestation, and arm64 when asked', async () => {
    const registry = await fx.start('none');
    const root = await makeRuntimeRoot();
    const repo = 'multi/app';
    const amd64Ref = `${registry.host}/${repo}:amd64`;
    await root.store.tag('busybox:latest', amd64Ref);
    await pushImage(root.store, amd64Ref);
    const client = new RepositoryClient(registry.host, repo);
    const amd64 = await client.getManifest('amd64');

    // An arm64 image by hand: one layer with a file that says so.
    const tar = await makeTar([{ name: 'platform', content: 'arm64\n' }]);
    const layer = gzipSync(tar);
    const layerBlob = await putBlob(client, layer);
    const armConfig: OciImage = {
      architecture: 'arm64', os: 'linux', variant: 'v8', created: '2024-01-01T00:00:00Z',
      config: { Cmd: ['/platform'] }, rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
    };
    const armConfigBlob = await putBlob(client, Buffer.from(JSON.stringify(armConfig)));
    const armManifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, ...armConfigBlob },
      layers: [{ mediaType: MediaType.ociLayerGzip, ...layerBlob }],
    }));
    const armDigest = await client.putManifest('arm64', armManifest, MediaType.ociManifest);

    // An attestation manifest as BuildKit writes them: platform unknown/unknown, an in-toto layer.
    const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://spdx.dev/Document' }));
    const statementBlob = await putBlob(client, statement);
    const attConfigBlob = await putBlob(client, Buffer.from(JSON.stringify({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [sha256Digest(statement)] } })));
    const attManifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, ...attConfigBlob },
      layers: [{ mediaType: 'application/vnd.in-toto+json', ...statementBlob, annotations: { 'in-toto.io/predicate-type': 'https://spdx.dev/Document' } }],
    }));
    const attDigest = await client.putManifest('att', attManifest, MediaType.ociManifest);

    // The attestation first: a client that took the first entry would get it.
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.ociIndex,
      manifests: [
        { mediaType: MediaType.ociManifest, digest: attDigest, size: attManifest.length, platform: { architecture: 'unknown', os: 'unknown' },
          annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': armDigest } },
        { mediaType: MediaType.ociManifest, digest: armDigest, size: armManifest.length, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
        { mediaType: MediaType.dockerManifest, digest: amd64.digest, size: amd64.bytes.length, platform: { architecture: 'amd64', os: 'linux' } },
      ],
    }));
    const indexDigest = await client.putManifest('multi', index, MediaType.ociIndex);

    const store2 = await fx.emptyStore();
    const pulled = await pullImage(store2, `${registry.host}/${repo}:multi`);
    expect(pulled.image.id).toBe((await root.store.get(amd64Ref)).id);
    expect(pulled.image.config.architecture).toBe('amd64');
    // The repository digest recorded is the index's, as Docker records it.
    expect(pulled.digest).toBe(indexDigest);
    expect(pulled.image.repoDigests).toContain(`${registry.host}/${repo}@${indexDigest}`);

    const arm = await pullImage(store2, `${registry.host}/${repo}:multi`, { platform: 'linux/arm64' });
    expect(arm.image.config.architecture).toBe('arm64');
    expect(arm.image.id).toBe(armConfigBlob.digest);
    const diff = store2.paths.layerDiff(arm.image.chainIds[0]!);
    expect(readFileSync(join(diff, 'platform'), 'utf8')).toBe('arm64\n');

    await expect(pullImage(store2, `${registry.host}/${repo}:multi`, { platform: 'linux/s390x' }))
      .rejects.toThrow(/no matching manifest for linux\/s390x .*\(it has linux\/arm64\/v8, linux\/amd64\)/);
  });
});
