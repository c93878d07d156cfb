import { describe, it, expect, beforeAll, afterEach, beforeEach } from 'vitest';
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { debianRootfsTar, busyboxRootfsTar } from '../support/images.js';
import type { ImageStore } from '../../src/engine/native/image/index.js';
import { cli, makeTestRoot, type TestRoot } from './helpers.js';
import { makeTar } from './tars.js';

/**
 * Acceptance 1: the busybox and Debian (debootstrap minbase) images import,
 * list, inspect and mount; two images that share a base layer store it once.
 */
let root: TestRoot;
let store: ImageStore;
let debian: string;
let busybox: string;
const CID1 = '1'.repeat(64);
const CID2 = '2'.repeat(64);

beforeAll(async () => {
  debian = await debianRootfsTar();
  busybox = await busyboxRootfsTar();
});

beforeEach(async () => {
  root = makeTestRoot('tsc-image-debian-');
  store = await root.store();
});

afterEach(async () => {
  await store.releaseRootfs(CID1);
  await store.releaseRootfs(CID2);
  root.cleanup();
});

/** Disk usage in KiB, as du counts it (hardlinks once). */
function du(path: string): number {
  return Number(execFileSync('du', ['-sk', path], { encoding: 'utf8' }).split('\t')[0]);
}

describe('busybox and Debian images', () => {
  it('import, list, inspect and mount both with the CLI', async () => {
    expect(cli(root, ['image', 'import', busybox, 'busybox']).code).toBe(0);
    const imported = cli(root, ['image', 'import', '-c', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '-c', 'CMD ["bash"]', debian, 'debian:bookworm']);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);

    const ls = cli(root, ['image', 'ls']);
    expect(ls.stdout.split('\n')[0]).toMatch(/^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$/);
    expect(ls.stdout).toMatch(/\ndebian +bookworm +[0-9a-f]{12} +(Less than a second|\d+ seconds) ago +1\d\dMB\n/);
    expect(ls.stdout).toMatch(/\nbusybox +latest +[0-9a-f]{12} .* +[12]\.\d+MB\n/);
    expect(cli(root, ['image', 'ls', '-q']).stdout.trim().split('\n')).toHaveLength(2);

    const inspect = JSON.parse(cli(root, ['image', 'inspect', 'debian:bookworm']).stdout);
    expect(inspect).toHaveLength(1);
    expect(inspect[0].Id).toBe(imported.stdout.trim());
    expect(inspect[0].RepoTags).toEqual(['debian:bookworm']);
    expect(inspect[0].Config.Cmd).toEqual(['bash']);
    expect(inspect[0].RootFS).toEqual({ Type: 'layers', Layers: [`sha256:${execFileSync('sha256sum', [debian], { encoding: 'utf8' }).split(' ')[0]}`] });
    expect(inspect[0].Os).toBe('linux');

    await store.prepareRootfs(CID1, 'debian:bookworm');
    const merged = await store.mountRootfs(CID1);
    expect(readFileSync(join(merged, 'etc/debian_version'), 'utf8')).toMatch(/^12\./);
    expect(existsSync(join(merged, 'usr/bin/apt-get'))).toBe(true);
    expect(existsSync(join(merged, 'bin'))).toBe(true);
    expect(statSync(join(merged, 'usr/bin/passwd')).mode & 0o4000).toBe(0o4000);
    // The dpkg database agrees with the files: every listed file of coreutils is there.
    const list = readFileSync(join(merged, 'var/lib/dpkg/info/coreutils.list'), 'utf8').split('\n').filter((p) => p.startsWith('/usr/bin/'));
    expect(list.length).toBeGreaterThan(50);
    for (const p of list) expect(existsSync(join(merged, p)), p).toBe(true);

    await store.prepareRootfs(CID2, 'busybox');
    const bb = await store.mountRootfs(CID2);
    expect(readFileSync(join(bb, 'bin/busybox')).equals(readFileSync('/bin/busybox'))).toBe(true);
  });

  it('stores a base layer two images share once (layer dir count and disk usage)', async () => {
    const base = await store.addLayerFromTar(debian);
    const single = du(join(store.root, 'layers'));
    const app = await store.addLayerFromTar(Readable.from([await makeTar([{ name: 'srv/app.txt', content: 'app\n' }])]), { parent: base.chainId });
    const cfg = (diffIds: string[], cmd: string) => ({ architecture: 'amd64', os: 'linux', config: { Cmd: [cmd] }, rootfs: { type: 'layers', diff_ids: diffIds } });
    await store.addImage(cfg([base.diffId], 'bash'), { tags: ['debian:bookworm'] });
    await store.addImage(cfg([base.diffId, app.diffId], '/srv/app'), { tags: ['app:1'] });
    // The same base imported again (another process's import, or a load) finds it already there.
    const again = await store.addLayerFromTar(debian);
    expect(again.added).toBe(false);
    expect(again.chainId).toBe(base.chainId);

    const layerDirs = readdirSync(join(store.root, 'layers'));
    const total = du(join(store.root, 'layers'));
    console.log(`layer dirs: ${layerDirs.length}; disk: one Debian layer ${single} KiB, two images sharing it ${total} KiB`);
    expect(layerDirs).toHaveLength(2);
    expect(total).toBeLessThan(single + 64);

    // Both images mount, over the same lower dir.
    const l1 = await store.prepareRootfs(CID1, 'debian:bookworm');
    const l2 = await store.prepareRootfs(CID2, 'app:1');
    expect(l2.lowerDirs[1]).toBe(l1.lowerDirs[0]);
    const m2 = await store.mountRootfs(CID2);
    await store.mountRootfs(CID1);
    expect(readFileSync(join(m2, 'srv/app.txt'), 'utf8')).toBe('app\n');
    expect(existsSync(join(m2, 'etc/debian_version'))).toBe(true);
    expect(existsSync(join(l1.mergedDir, 'srv/app.txt'))).toBe(false);
  });
});
