import { describe, it, expect, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffUpperDir, readXattrs } from '../../src/build/fs/diff.js';
import { tar, paxXattrs } from '../../src/engine/native/image/tarlib.js';
import { ImageStore } from '../../src/engine/native/image/index.js';

/**
 * An overlay upper dir made by hand (a whiteout device, an opaque dir, a
 * hardlink pair, a symlink, a fifo, binary extended attributes) diffed into
 * a layer tar, and that tar unpacked by the image store: the same tree.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A file capability (cap_net_raw+ep, VFS_CAP_REVISION_2): bytes >= 0x80 that a UTF-8 round trip would mangle. */
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex');

describe('upper dir diff', () => {
  it('writes whiteouts, opaque dirs, hardlinks, symlinks, fifos and xattrs as Docker layers carry them', async () => {
    const upper = mkdtempSync(join(tmpdir(), 'tsc-upper-'));
    dirs.push(upper);
    writeFileSync(join(upper, 'a.txt'), 'a');
    mkdirSync(join(upper, 'opaque'));
    writeFileSync(join(upper, 'opaque', 'x'), 'x');
    execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(upper, 'opaque')]);
    execFileSync('mknod', [join(upper, 'deleted'), 'c', '0', '0']);
    writeFileSync(join(upper, 'h1'), 'same');
    linkSync(join(upper, 'h1'), join(upper, 'h2'));
    symlinkSync('/etc/target', join(upper, 'link'));
    execFileSync('mkfifo', [join(upper, 'pipe')]);
    writeFileSync(join(upper, 'ping'), 'binary');
    execFileSync('setfattr', ['-n', 'security.capability', '-v', `0s${CAP.toString('base64')}`, join(upper, 'ping')]);
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'hello', join(upper, 'a.txt')]);
    execFileSync('setfattr', ['-n', 'trusted.overlay.origin', '-v', '0x00', join(upper, 'a.txt')]);

    const diff = await diffUpperDir(upper);
    expect(diff.empty).toBe(false);
    const entries: { name: string; type: string; linkname?: string | null; xattrs: Map<string, Buffer> }[] = [];
    const extract = tar.extract();
    extract.on('entry', (h, s, next) => { entries.push({ name: h.name, type: h.type!, linkname: h.linkname, xattrs: paxXattrs(h) }); s.resume(); s.on('end', next); });
    const chunks: Buffer[] = [];
    diff.stream!.on('data', (c: Buffer) => chunks.push(c));
    await new Promise<void>((r, j) => { diff.stream!.on('end', r); diff.stream!.on('error', j); });
    const tarBytes = Buffer.concat(chunks);
    const done = new Promise<void>((r, j) => { extract.on('finish', r); extract.on('error', j); });
    extract.end(tarBytes);
    await done;
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect([...byName.keys()].sort()).toEqual(['.wh.deleted', 'a.txt', 'h1', 'h2', 'link', 'opaque/', 'opaque/.wh..wh..opq', 'opaque/x', 'ping', 'pipe'].sort());
    expect(byName.get('h2')).toMatchObject({ type: 'link', linkname: 'h1' });
    expect(byName.get('link')).toMatchObject({ type: 'symlink', linkname: '/etc/target' });
    expect(byName.get('pipe')!.type).toBe('fifo');
    expect(byName.get('ping')!.xattrs.get('security.capability')).toEqual(CAP);
    expect([...byName.get('a.txt')!.xattrs.keys()]).toEqual(['user.note']);

    // The image store unpacks it into the same tree (its own whiteout and opaque forms included).
    const storeDir = mkdtempSync(join(tmpdir(), 'tsc-diffstore-'));
    dirs.push(storeDir);
    const store = await ImageStore.open(join(storeDir, 'image'));
    const layer = await store.addLayerFromTar((await diffUpperDir(upper)).stream!);
    const unpacked = store.paths.layerDiff(layer.chainId);
    const back = await readXattrs(unpacked);
    expect(back.get('ping')?.get('security.capability')).toEqual(CAP);
    expect(back.get('opaque')?.get('trusted.overlay.opaque')?.toString()).toBe('y');
    expect(execFileSync('stat', ['-c', '%F %t:%T', join(unpacked, 'deleted')], { encoding: 'utf8' })).toBe('character special file 0:0\n');
    expect(execFileSync('stat', ['-c', '%h', join(unpacked, 'h1')], { encoding: 'utf8' })).toBe('2\n');
  });

  it('leaves out the runtime\'s mount points when the image had none, and an empty upper dir is no layer', async () => {
    const upper = mkdtempSync(join(tmpdir(), 'tsc-upper-'));
    const lower = mkdtempSync(join(tmpdir(), 'tsc-lower-'));
    dirs.push(upper, lower);
    expect((await diffUpperDir(upper)).empty).toBe(true);
    mkdirSync(join(upper, 'etc'));
    mkdirSync(join(upper, 'proc'));
    for (const f of ['hosts', 'hostname', 'resolv.conf']) writeFileSync(join(upper, 'etc', f), '');
    expect((await diffUpperDir(upper, { mountPoints: ['proc', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf'], lowers: [lower] })).empty).toBe(true);
    // The image has its own /etc/hosts: an empty one in the upper dir is a real change.
    mkdirSync(join(lower, 'etc'));
    writeFileSync(join(lower, 'etc', 'hosts'), '127.0.0.1 localhost\n');
    const d = await diffUpperDir(upper, { mountPoints: ['proc', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf'], lowers: [lower] });
    expect(d.entries).toBe(2);
    for await (const _ of d.stream!) { /* drain before the dirs go */ }
  });
});
