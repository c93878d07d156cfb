import { describe, it, expect, beforeAll, afterEach, beforeEach } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { debianRootfsTar, busyboxRootfsTar } from '../support/images.js';
import { repoRoot } from '../support/cache.js';
import { importRootfsTar, type ImageStore } from '../../src/engine/native/image/index.js';
import { makeTestRoot, type TestRoot } from './helpers.js';

/**
 * After a crash at the worst moment, the next command converges: a process
 * killed mid-unpack leaves a staging dir that the next open sweeps, a lock
 * whose owner died is broken, a half-deleted layer is finished off, and a
 * rootfs left mounted by a dead process is unmounted and released.
 */
let root: TestRoot;
let store: ImageStore;
const CID = 'e'.repeat(64);

beforeAll(async () => {
  await debianRootfsTar();
  await busyboxRootfsTar();
});

beforeEach(async () => {
  root = makeTestRoot('tsc-image-crash-');
  store = await root.store();
});

afterEach(async () => {
  await store.releaseRootfs(CID);
  root.cleanup();
});

describe('crash convergence', () => {
  it('a tscompose killed mid-unpack leaves nothing that the next run does not clear', async () => {
    const child = spawn(join(repoRoot, 'bin', 'tscompose'), ['image', 'import', await debianRootfsTar(), 'deb'], { env: root.env, stdio: 'ignore' });
    const tmp = join(store.root, 'tmp');
    // Kill it once it is writing files into its staging dir.
    for (let i = 0; i < 600; i++) {
      const staging = readdirSync(tmp)[0];
      if (staging && existsSync(join(tmp, staging, 'diff', 'usr'))) break;
      await sleep(50);
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    expect(readdirSync(tmp)).toHaveLength(1);
    expect(readdirSync(join(store.root, 'layers'))).toEqual([]);

    const next = await root.store();
    expect(readdirSync(tmp)).toEqual([]);
    const { image } = await importRootfsTar(next, await busyboxRootfsTar(), { tags: ['bb'] });
    expect((await next.get('bb')).id).toBe(image.id);
  });

  it('breaks a lock whose owner died, and finishes a half-deleted layer', async () => {
    const { image } = await importRootfsTar(store, await busyboxRootfsTar(), { tags: ['bb'] });
    // A dead process's lock (a pid that exited) and an interrupted layer deletion.
    const dead = spawnSync('true').pid!;
    writeFileSync(join(store.root, 'lock'), `${dead} 12345`);
    mkdirSync(join(store.root, 'layers', 'f'.repeat(64), 'diff'), { recursive: true });
    // A crash mid atomic write of the record leaves only the temp file.
    const strayTmp = join(store.root, 'images', `.${image.id.slice(7)}.json.0123456789ab.tmp`);
    renameSync(join(store.root, 'images', `${image.id.slice(7)}.json`), strayTmp);
    const swept = await store.gc();
    expect(swept.layers).toBe(1); // the busybox layer: its image record is gone
    expect(readdirSync(join(store.root, 'layers'))).toEqual([]);
    expect(existsSync(join(store.root, 'lock'))).toBe(false);
    expect(existsSync(strayTmp)).toBe(false);
  });

  it('unmounts and releases a rootfs a dead process left mounted', async () => {
    await importRootfsTar(store, await busyboxRootfsTar(), { tags: ['bb'] });
    // Another process prepares and mounts, then dies without unmounting.
    const script = `
      const { ImageStore } = await import(${JSON.stringify(join(repoRoot, 'dist/engine/native/image/index.js'))});
      const s = await ImageStore.open(${JSON.stringify(store.root)});
      await s.prepareRootfs('${CID}', 'bb');
      await s.mountRootfs('${CID}');
      process.kill(process.pid, 'SIGKILL');`;
    spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: root.env });
    const layout = await store.rootfsLayout(CID);
    expect(layout).toBeDefined();
    expect(existsSync(join(layout!.mergedDir, 'bin/busybox'))).toBe(true);
    await expect(store.remove('bb')).rejects.toThrow(/is using its referenced image/);
    await store.releaseRootfs(CID);
    expect(existsSync(layout!.mergedDir)).toBe(false);
    expect((await store.remove('bb')).deleted).toHaveLength(2);
  });
});
