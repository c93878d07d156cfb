import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, lstatSync, readlinkSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { busyboxRootfsTar } from '../support/images.js';
import { ImageStore, importRootfsTar, isMountPoint } from '../../src/engine/native/image/index.js';
import { makeTestRoot, mountsUnder, dockerLayerSize, type TestRoot } from './helpers.js';
import { makeTar } from './tars.js';
import { Readable } from 'node:stream';

const CID = 'a'.repeat(64);
let busybox: string;
let root: TestRoot | undefined;

beforeAll(async () => {
  busybox = await busyboxRootfsTar();
});

afterEach(() => {
  root?.cleanup();
  root = undefined;
});

async function freshStore(): Promise<ImageStore> {
  root = makeTestRoot();
  return root.store();
}

describe('image store: import, resolve, rootfs', () => {
  it('imports the busybox rootfs and resolves it the ways Docker does', async () => {
    const store = await freshStore();
    const { image } = await importRootfsTar(store, busybox, {
      tags: ['busybox'],
      configure: (c) => ({ ...c, config: { Cmd: ['sh'], Env: ['A=1', 'B=two words'] } }),
    });
    expect(image.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(image.repoTags).toEqual(['busybox:latest']);
    expect(image.config.config?.Cmd).toEqual(['sh']);
    expect(image.config.config?.Env).toEqual(['A=1', 'B=two words']);
    expect(image.chainIds).toHaveLength(1);
    expect(image.chainIds[0]).toBe(image.config.rootfs.diff_ids[0]);
    expect(image.size).toBe(dockerLayerSize(busybox));

    for (const ref of ['busybox', 'busybox:latest', 'docker.io/library/busybox', 'docker.io/library/busybox:latest', 'library/busybox',
      image.id, image.id.slice(7), image.id.slice(7, 19), image.id.slice(0, 14)]) {
      expect((await store.resolve(ref))?.id, ref).toBe(image.id);
    }
    expect(await store.resolve('busybox:other')).toBeUndefined();
    expect(await store.resolve('nothere')).toBeUndefined();
    await expect(store.get('nothere')).rejects.toThrow('No such image: nothere');
  });

  it('gives the layer tar back byte for byte (the recipe played against the unpacked dir)', async () => {
    const store = await freshStore();
    const { image } = await importRootfsTar(store, busybox);
    const chunks: Buffer[] = [];
    for await (const c of store.layerTar(image.chainIds[0]!)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(readFileSync(busybox))).toBe(true);
  });

  it('import makes the root 0755 whatever the tar\'s ./ entry says, as Docker does, and keeps the tar byte for byte', async () => {
    const store = await freshStore();
    const tar = await makeTar([{ name: './', type: 'directory', mode: 0o700 }, { name: './etc/', type: 'directory', mode: 0o700 }, { name: './etc/motd', content: 'hi\n' }]);
    const { image } = await importRootfsTar(store, Readable.from([tar]), { tags: ['root700:1'] });
    const layout = await store.prepareRootfs(CID, 'root700:1');
    const merged = await store.mountRootfs(CID);
    try {
      expect(statSync(merged).mode & 0o7777).toBe(0o755);
      expect(statSync(join(merged, 'etc')).mode & 0o7777).toBe(0o700);
      expect(readdirSync(layout.upperDir)).toEqual([]);
    } finally {
      await store.unmountRootfs(CID);
      await store.releaseRootfs(CID);
    }
    const chunks: Buffer[] = [];
    for await (const c of store.layerTar(image.chainIds[0]!)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(tar)).toBe(true);
  });

  it('prepares the rootfs of many containers asked for together, each failure its own', async () => {
    const store = await freshStore();
    await importRootfsTar(store, busybox, { tags: ['bb:1'] });
    const ids = ['b', 'c', 'd', 'e', 'f'].map((c) => c.repeat(64));
    const asked = [
      ...ids.map((id) => store.prepareRootfs(id, 'bb:1')),
      store.prepareRootfs('../escape', 'bb:1'),
      store.prepareRootfs('0'.repeat(64), 'no-such-image'),
      store.prepareRootfs(ids[0]!, 'bb:1'), // the same container again in the same batch: the same layout
    ];
    const settled = await Promise.allSettled(asked);
    expect(settled.map((r) => r.status)).toEqual([...ids.map(() => 'fulfilled'), 'rejected', 'rejected', 'fulfilled']);
    for (const [i, id] of ids.entries()) {
      const layout = (settled[i] as PromiseFulfilledResult<Awaited<(typeof asked)[0]>>).value;
      expect(JSON.parse(readFileSync(join(store.root, 'rw', id, 'layout.json'), 'utf8'))).toEqual(layout);
      expect(existsSync(layout.upperDir) && existsSync(layout.workDir)).toBe(true);
    }
    expect((settled[7] as PromiseFulfilledResult<unknown>).value).toEqual((settled[0] as PromiseFulfilledResult<unknown>).value);
    expect(existsSync(join(store.root, 'rw', '0'.repeat(64)))).toBe(false);
    expect(readdirSync(join(store.root, 'rw')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    for (const id of ids) await store.releaseRootfs(id);
    expect(readdirSync(join(store.root, 'rw'))).toEqual([]);
  });

  it('mounts the overlay, idempotently, and unmounts it after a simulated crash', async () => {
    const store = await freshStore();
    await importRootfsTar(store, busybox, { tags: ['bb:1'] });
    const layout = await store.prepareRootfs(CID, 'bb:1');
    expect(await store.prepareRootfs(CID, 'bb:1')).toEqual(layout);
    expect(layout.lowerDirs).toHaveLength(1);
    expect(layout.mountData).toMatch(/^lowerdir=l\/[0-9a-f]{12},upperdir=rw\/a{64}\/upper,workdir=rw\/a{64}\/work/);
    const merged = await store.mountRootfs(CID);
    expect(merged).toBe(layout.mergedDir);
    expect(await store.mountRootfs(CID)).toBe(merged);
    expect(mountsUnder(root!.dir)).toEqual([merged]);
    expect(readFileSync(join(merged, 'bin/busybox')).equals(readFileSync('/bin/busybox'))).toBe(true);
    expect(readlinkSync(join(merged, 'bin/sh'))).toBe('/bin/busybox');
    expect(statSync(join(merged, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(statSync(join(merged, 'home/user')).uid).toBe(1000);
    expect(readFileSync(join(merged, 'etc/passwd'), 'utf8')).toContain('root:x:0:0');

    // A fresh store object (another process after a crash) sees the mount in the kernel, not in a file.
    const again = await root!.store();
    await again.unmountRootfs(CID);
    expect(isMountPoint(merged)).toBe(false);
    await again.unmountRootfs(CID);
    await again.releaseRootfs(CID);
    await again.releaseRootfs(CID);
    expect(existsSync(join(store.root, 'rw', CID))).toBe(false);
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
  });

  it('releases a mounted rootfs with files in it (moved out of rw/ under the lock, deleted after); a dead releaser\'s leftover goes at the next open', async () => {
    const store = await freshStore();
    await importRootfsTar(store, busybox, { tags: ['bb:1'] });
    await store.prepareRootfs(CID, 'bb:1');
    const merged = await store.mountRootfs(CID);
    mkdirSync(join(merged, 'data/deep/er'), { recursive: true });
    writeFileSync(join(merged, 'data/deep/er/file'), 'x');
    chmodSync(join(merged, 'data/deep'), 0o000);
    await store.releaseRootfs(CID);
    expect(mountsUnder(root!.dir)).toEqual([]);
    expect(readdirSync(join(store.root, 'rw'))).toEqual([]);
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
    // What a releaser killed between the rename and the deletion leaves: a staging dir of a dead process.
    const left = join(store.root, 'tmp', '999999999-1-0123456789ab');
    mkdirSync(join(left, 'upper/etc'), { recursive: true });
    writeFileSync(join(left, 'layout.json'), '{}');
    await root!.store();
    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
  });

  it('tells a mount point by its mountinfo field, a path with spaces included, and not a mount\'s root within its source', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-mnt-'));
    const spaced = join(dir, 'a b');
    mkdirSync(join(spaced, 'inner'), { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', spaced]);
      mkdirSync(join(spaced, 'inner'));
      // A bind of a sub-dir: its mountinfo line names "/inner" as its root, which is no mount point here.
      mkdirSync(join(dir, 'bound'));
      execFileSync('mount', ['--bind', join(spaced, 'inner'), join(dir, 'bound')]);
      expect([isMountPoint(spaced), isMountPoint(join(dir, 'bound')), isMountPoint(dir), isMountPoint(join(spaced, 'inner'))]).toEqual([true, true, false, false]);
    } finally {
      for (const m of [join(dir, 'bound'), spaced]) execFileSync('umount', [m], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps an image in use from rm and its layers from gc, until released', async () => {
    const store = await freshStore();
    const { image } = await importRootfsTar(store, busybox, { tags: ['bb'] });
    await store.prepareRootfs(CID, 'bb');
    await expect(store.remove('bb')).rejects.toThrow(/must force.*container aaaaaaaaaaaa is using/);
    await expect(store.remove(image.id)).rejects.toThrow(/being used by container/);
    const forced = await store.remove('bb', { force: true });
    expect(forced.untagged).toEqual(['bb:latest']);
    expect(forced.deleted).toEqual([image.id]);
    await store.gc();
    const layer = store.layer(image.chainIds[0]!);
    expect(layer).toBeDefined();
    await store.mountRootfs(CID);
    expect(existsSync(join((await store.rootfsLayout(CID))!.mergedDir, 'bin/busybox'))).toBe(true);
    await store.releaseRootfs(CID);
    const swept = await store.gc();
    expect(swept.layers).toBe(1);
    expect(readdirSync(join(store.root, 'layers'))).toEqual([]);
    expect(readdirSync(join(store.root, 'l'))).toEqual([]);
  });

  it('adds again without writing what is already so (a no-op rebuild\'s images), and still records a tag time and a moved tag', async () => {
    const store = await freshStore();
    const config = (cmd: string) => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: [cmd] } });
    const { image: a } = await store.addImage(config('/a'), { tags: ['again:1'] });
    const { image: stage } = await store.addImage(config('/stage'));
    const repos = join(store.root, 'repositories.json');
    const record = (id: string) => join(store.root, 'images', `${id.slice(7)}.json`);
    // A rename gives a new inode: the same inode and time mean the file was not written.
    const stamp = (path: string) => { const st = statSync(path, { bigint: true }); return `${st.ino}:${st.mtimeNs}`; };
    const [reposBefore, stageBefore, aBefore] = [stamp(repos), stamp(record(stage.id)), JSON.parse(readFileSync(record(a.id), 'utf8')) as { lastTagTime: string }];
    await new Promise((r) => setTimeout(r, 5));
    await store.addImage(config('/stage'));
    const { image: a2, retagged } = await store.addImage(config('/a'), { tags: ['again:1'] });
    expect(a2.id).toBe(a.id);
    expect(retagged).toEqual([]);
    expect(stamp(record(stage.id))).toBe(stageBefore);
    expect(stamp(repos)).toBe(reposBefore);
    expect((JSON.parse(readFileSync(record(a.id), 'utf8')) as { lastTagTime: string }).lastTagTime > aBefore.lastTagTime).toBe(true);
    // The tag moved to another image: written, and said.
    const { image: b, retagged: moved } = await store.addImage(config('/b'), { tags: ['again:1'] });
    expect(moved).toEqual([{ tag: 'again:1', previousId: a.id }]);
    expect(stamp(repos)).not.toBe(reposBefore);
    expect((await store.resolve('again:1'))?.id).toBe(b.id);
    expect((await store.resolve(a.id))?.repoTags).toEqual([]);
  });

  it('gives an image with no layer an empty lower dir', async () => {
    const store = await freshStore();
    const { image } = await store.addImage({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: ['/x'] } }, { tags: ['scratchy'] });
    expect(image.chainIds).toEqual([]);
    const layout = await store.prepareRootfs(CID, 'scratchy');
    expect(layout.lowerDirs).toEqual([join(store.root, 'empty')]);
    const merged = await store.mountRootfs(CID);
    expect(readdirSync(merged)).toEqual([]);
    expect(statSync(merged).mode & 0o777).toBe(0o755);
    await store.releaseRootfs(CID);
  });

  it('mounts from a store whose path has commas, colons and spaces (overlay options stay relative)', async () => {
    root = makeTestRoot('tsc-image-we,ird: ');
    const store = await ImageStore.open(join(root.dir, 'a,b:c d', 'image'));
    await importRootfsTar(store, busybox, { tags: ['bb'] });
    const layout = await store.prepareRootfs(CID, 'bb');
    expect(layout.mountData).not.toContain(root.dir);
    expect(existsSync(join(await store.mountRootfs(CID), 'bin/busybox'))).toBe(true);
    expect(isMountPoint(layout.mergedDir)).toBe(true);
    await store.releaseRootfs(CID);
  });

  it('creates its dirs root-only', async () => {
    const store = await freshStore();
    for (const d of ['', 'blobs', 'images', 'layers', 'l', 'rw', 'tmp', 'holds']) {
      expect(lstatSync(join(store.root, d)).mode & 0o777, d).toBe(0o700);
    }
  });
});
