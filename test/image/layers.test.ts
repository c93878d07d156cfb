import { describe, it, expect, afterEach, beforeEach } from 'vitest';
import { lstatSync, readdirSync, readFileSync, readlinkSync, existsSync, mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { createGzip } from 'node:zlib';
import type { ImageStore } from '../../src/engine/native/image/index.js';
import { makeTestRoot, type TestRoot } from './helpers.js';
import { makeTar } from './tars.js';

/**
 * Layer application: whiteouts and opaque dirs as overlayfs sees them, and
 * every kind of entry with its metadata, checked in the mounted rootfs.
 */
let root: TestRoot;
let store: ImageStore;
const CID = 'c'.repeat(64);

beforeEach(async () => {
  root = makeTestRoot('tsc-image-layers-');
  store = await root.store();
});

afterEach(async () => {
  await store.releaseRootfs(CID);
  root.cleanup();
});

function getfattr(path: string): string {
  return execFileSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

async function bytesOf(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('whiteouts', () => {
  it('hides a deleted file and the old content of an opaque dir in the mounted rootfs', async () => {
    const base = await store.addLayerFromTar(Readable.from([await makeTar([
      { name: 'keep', content: 'keep\n' },
      { name: 'gone', content: 'gone\n' },
      { name: 'gonedir/', type: 'directory' },
      { name: 'gonedir/deep', content: 'x' },
      { name: 'opq/', type: 'directory' },
      { name: 'opq/a', content: 'a' },
      { name: 'opq/sub/', type: 'directory' },
      { name: 'opq/sub/b', content: 'b' },
    ])]));
    const upperTar = await makeTar([
      { name: '.wh.gone' },
      { name: '.wh.gonedir' },
      { name: 'opq/', type: 'directory' },
      { name: 'opq/.wh..wh..opq' },
      { name: 'opq/c', content: 'c' },
    ]);
    const upper = await store.addLayerFromTar(Readable.from([upperTar]), { parent: base.chainId });
    expect(upper.chainId).not.toBe(upper.diffId);
    await store.addImage({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [base.diffId, upper.diffId] } }, { tags: ['wh'] });

    // In the layer dir: char 0:0 devices and the opaque xattr, never the .wh. markers themselves.
    const diff = join(store.root, 'layers', upper.chainId.slice(7), 'diff');
    expect(readdirSync(diff).sort()).toEqual(['gone', 'gonedir', 'opq']);
    for (const w of ['gone', 'gonedir']) {
      const st = lstatSync(join(diff, w));
      expect(st.isCharacterDevice()).toBe(true);
      expect(st.rdev).toBe(0);
    }
    expect(getfattr(join(diff, 'opq'))).toContain('trusted.overlay.opaque=0x79');
    expect(readdirSync(join(diff, 'opq'))).toEqual(['c']);

    await store.prepareRootfs(CID, 'wh');
    const merged = await store.mountRootfs(CID);
    expect(readdirSync(merged).sort()).toEqual(['keep', 'opq']);
    expect(readdirSync(join(merged, 'opq'))).toEqual(['c']);
    expect(existsSync(join(merged, 'gone'))).toBe(false);
    expect(readFileSync(join(merged, 'keep'), 'utf8')).toBe('keep\n');

    // And the upper layer's tar comes back exactly, whiteout entries included.
    expect((await bytesOf(store.layerTar(upper.chainId))).equals(upperTar)).toBe(true);
  });
});

describe('entry kinds and metadata', () => {
  it('keeps owners, modes, mtimes, hardlinks, symlinks, devices, fifos and binary xattrs', async () => {
    // Built with GNU tar from a real dir, as real layers are: PAX xattrs with raw bytes.
    const src = mkdtempSync(join(tmpdir(), 'tsc-image-src-'));
    try {
      mkdirSync(join(src, 'bin'));
      writeFileSync(join(src, 'bin', 'ping'), 'ELF...');
      // A v2 capability set with bytes >= 0x80 (cap_setuid is bit 7): UTF-8 decoding would mangle it.
      const cap = '0x0100000280000000000000000000000000000000';
      // chown first: the kernel drops security.capability when a file changes owner.
      execFileSync('chown', ['1234:5678', join(src, 'bin', 'ping')]);
      execFileSync('chmod', ['4755', join(src, 'bin', 'ping')]);
      execFileSync('setfattr', ['-n', 'security.capability', '-v', cap, join(src, 'bin', 'ping')]);
      execFileSync('setfattr', ['-n', 'user.note', '-v', 'hello', join(src, 'bin', 'ping')]);
      execFileSync('ln', [join(src, 'bin', 'ping'), join(src, 'bin', 'ping6')]);
      execFileSync('ln', ['-s', 'ping', join(src, 'bin', 'pong')]);
      mkdirSync(join(src, 'dev'));
      execFileSync('mknod', ['-m', '666', join(src, 'dev', 'null'), 'c', '1', '3']);
      execFileSync('mknod', ['-m', '660', join(src, 'dev', 'sda'), 'b', '8', '0']);
      execFileSync('mkfifo', ['-m', '600', join(src, 'fifo')]);
      writeFileSync(join(src, 'bin', 'su'), 'root-owned setuid');
      execFileSync('chmod', ['4755', join(src, 'bin', 'su')]);
      writeFileSync(join(src, 'world'), 'rw for all');
      execFileSync('chmod', ['666', join(src, 'world')]);
      mkdirSync(join(src, 'sticky'), { mode: 0o1777 });
      execFileSync('chmod', ['1777', join(src, 'sticky')]);
      execFileSync('touch', ['-h', '-d', '2001-02-03T04:05:06Z', join(src, 'bin', 'pong')]);
      execFileSync('touch', ['-d', '2002-03-04T05:06:07Z', join(src, 'bin', 'ping'), join(src, 'bin'), join(src, 'sticky')]);
      const tarBytes = execFileSync('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', src, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
      // gzip-compressed: detected by magic, the DiffID is still the plain tar's digest.
      const gz = await bytesOf(Readable.from([tarBytes]).pipe(createGzip()));
      const layer = await store.addLayerFromTar(Readable.from([gz]));
      expect(layer.diffId).toBe(`sha256:${execFileSync('sha256sum', { input: tarBytes, encoding: 'utf8' }).split(' ')[0]}`);
      expect(layer.tarSize).toBe(tarBytes.length);
      await store.addImage({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.diffId] } }, { tags: ['kinds'] });
      await store.prepareRootfs(CID, 'kinds');
      const m = await store.mountRootfs(CID);

      const ping = lstatSync(join(m, 'bin/ping'));
      expect([ping.uid, ping.gid, ping.mode & 0o7777, ping.nlink]).toEqual([1234, 5678, 0o4755, 2]);
      expect(lstatSync(join(m, 'bin/ping6')).ino).toBe(ping.ino);
      expect(ping.mtime.toISOString()).toBe('2002-03-04T05:06:07.000Z');
      expect(lstatSync(join(m, 'bin')).mtime.toISOString()).toBe('2002-03-04T05:06:07.000Z');
      expect(readlinkSync(join(m, 'bin/pong'))).toBe('ping');
      expect(lstatSync(join(m, 'bin/pong')).mtime.toISOString()).toBe('2001-02-03T04:05:06.000Z');
      const attrs = getfattr(join(m, 'bin/ping'));
      expect(attrs).toContain(`security.capability=${cap}`);
      expect(attrs).toContain('user.note=0x68656c6c6f');
      const nul = lstatSync(join(m, 'dev/null'));
      expect([nul.isCharacterDevice(), nul.rdev, nul.mode & 0o777]).toEqual([true, (1 << 8) | 3, 0o666]);
      const sda = lstatSync(join(m, 'dev/sda'));
      expect([sda.isBlockDevice(), sda.rdev, sda.mode & 0o777]).toEqual([true, (8 << 8) | 0, 0o660]);
      expect(lstatSync(join(m, 'fifo')).isFIFO()).toBe(true);
      expect(lstatSync(join(m, 'sticky')).mode & 0o7777).toBe(0o1777);
      const su = lstatSync(join(m, 'bin/su'));
      expect([su.uid, su.mode & 0o7777]).toEqual([0, 0o4755]);
      expect(lstatSync(join(m, 'world')).mode & 0o7777).toBe(0o666);

      // save's tar is the original one, even though it arrived gzipped.
      expect((await bytesOf(store.layerTar(layer.chainId))).equals(tarBytes)).toBe(true);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  it('rebuilds a tar whose later entries replace earlier ones (duplicate paths)', async () => {
    const tarBytes = await makeTar([
      { name: 'f', content: 'first version' },
      { name: 'd/', type: 'directory' },
      { name: 'd/x', content: 'inside d' },
      { name: 'f', content: 'second' },
      { name: 'd', content: 'd is a file now' },
    ]);
    const layer = await store.addLayerFromTar(Readable.from([tarBytes]));
    const diff = join(store.root, 'layers', layer.chainId.slice(7), 'diff');
    expect(readFileSync(join(diff, 'f'), 'utf8')).toBe('second');
    expect(readFileSync(join(diff, 'd'), 'utf8')).toBe('d is a file now');
    expect((await bytesOf(store.layerTar(layer.chainId))).equals(tarBytes)).toBe(true);
    // And if the unpacked files are tampered with, playback fails instead of giving a wrong blob.
    writeFileSync(join(diff, 'f'), 'SECOND');
    await expect(bytesOf(store.layerTar(layer.chainId))).rejects.toThrow(/no longer matches its files/);
  });
});
