import { describe, it, expect } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { ImageStore, importRootfsTar } from '../../src/engine/native/image/index.js';
import { busyboxRootfsTar } from '../support/images.js';
import { ready, useNativeEngine } from './harness.js';

/**
 * Mount destinations a user's mount may not reach, whatever symlinks the
 * image holds (runc refuses mounts inside /proc too); and configs and
 * secrets the container cannot write back to the host.
 */

const EVIL = 'tsc-test/evil-links:latest';

/** busybox plus /evil -> /proc/sys and /sysl -> /sys/kernel, as a hostile image would ship them. */
async function importEvilImage(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-evil-'));
  try {
    const tar = join(dir, 'rootfs.tar');
    copyFileSync(await busyboxRootfsTar(), tar);
    mkdirSync(join(dir, 'links'));
    symlinkSync('/proc/sys', join(dir, 'links', 'evil'));
    symlinkSync('/sys/kernel', join(dir, 'links', 'sysl'));
    execFileSync('tar', ['-rf', tar, '-C', join(dir, 'links'), 'evil', 'sysl']);
    const store = await ImageStore.open(join(process.env.TSCOMPOSE_ROOT!, 'image'));
    await importRootfsTar(store, tar, { tags: [EVIL], changes: ['CMD ["sh"]'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('mount guards', () => {
  const t = useNativeEngine();

  it('refuses a user mount that resolves inside /proc or, by a symlink, /sys; allows the lxcfs files', async () => {
    await ready(t);
    await importEvilImage();
    const host = join(t.root().dir, 'vol');
    mkdirSync(host);
    const refused = async (mounts: Parameters<typeof t.container>[0]['mounts'], sentence: string, networkMode = 'host') => {
      const id = await t.container({ image: EVIL, cmd: ['sleep', '60'], mounts, networkMode }, false);
      await expect(t.engine().containers.start(id)).rejects.toThrow(sentence);
      expect((await t.inspect(id)).state).not.toBe('running');
      await t.engine().containers.remove(id, { force: true });
    };
    await refused([{ type: 'bind', source: host, target: '/evil' }], 'refusing to mount on /evil: it is /proc/sys inside the container, and nothing may be mounted inside /proc');
    await refused([{ type: 'bind', source: host, target: '/proc/sys/kernel' }], 'refusing to mount on /proc/sys/kernel: it is /proc/sys/kernel inside the container', 'none');
    await refused([{ type: 'tmpfs', target: '/evil/net' }], 'refusing to mount on /evil/net: it is /proc/sys/net inside the container');
    await refused([{ type: 'bind', source: host, target: '/sysl' }], 'refusing to mount on /sysl: a symlink in the image leads it to /sys/kernel, inside /sys', 'none');
    // Nothing of the host directory went anywhere.
    expect(readdirSync(host)).toEqual([]);

    // What runc lets through: lxcfs-style files over /proc's, and a target the user named under /sys.
    const cpuinfo = join(t.root().dir, 'cpuinfo');
    execFileSync('sh', ['-c', `echo fake-cpu > ${cpuinfo}`]);
    const ok = await t.container({ image: EVIL, cmd: ['sh', '-c', 'cat /proc/cpuinfo; sleep 60'], networkMode: 'none', mounts: [{ type: 'bind', source: cpuinfo, target: '/proc/cpuinfo', readOnly: true }] });
    await t.until(ok, (d) => d.state === 'running');
    await t.engine().containers.stop(ok, 0);
  });

  it('mounts configs and secrets read-only: a write inside never reaches the host copy', async () => {
    await ready(t);
    const id = await t.container({
      cmd: ['sh', '-c', 'echo changed > /run/secrets/token; echo "rc=$?"; cat /run/secrets/token; sleep 60'],
      files: [{ target: '/run/secrets/token', content: Buffer.from('s3cret\n'), mode: 0o444 }],
    });
    await t.until(id, (d) => d.state === 'running');
    let out = '';
    for (let i = 0; i < 100 && !out.includes('s3cret'); i++) {
      // The monitor makes the log once the command has started, which may be just after "running".
      out = existsSync(join(t.root().state, 'containers', id, 'container.log')) ? readFileSync(join(t.root().state, 'containers', id, 'container.log'), 'utf8') : '';
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(out).toMatch(/Read-only file system/);
    expect(out).toMatch(/rc=[1-9]/);
    expect(out).toContain('s3cret');
    const files = join(t.root().state, 'engine', 'files');
    const [token] = readdirSync(files);
    expect(readFileSync(join(files, token!, '0'), 'utf8')).toBe('s3cret\n');
    await t.engine().containers.stop(id, 0);
  });
});
