import { describe, it, expect, afterEach } from 'vitest';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { importRootfsTar } from '../../src/engine/native/image/index.js';
import { busyboxRootfsTar } from '../support/images.js';
import { repoRoot } from '../support/cache.js';
import { checkNoLeaks, makeRuntimeRoot, mountsUnder, runToEnd, sh, type RuntimeRoot } from './helpers.js';

afterEach(checkNoLeaks);

/** engine.md section 6: the attacks a container engine must withstand, one test each. */

async function busyboxBinary(): Promise<string> {
  return '/bin/busybox';
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** An image made of the busybox rootfs with `edit` applied to a copy of it. */
async function imageWith(root: RuntimeRoot, tag: string, edit: (dir: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-rt-img-'));
  try {
    execFileSync('tar', ['-xf', await busyboxRootfsTar(), '-C', dir]);
    edit(dir);
    const tar = join(root.dir, `${tag}.tar`);
    execFileSync('tar', ['--numeric-owner', '-C', dir, '-cf', tar, '.']);
    await importRootfsTar(root.store, tar, { tags: [tag] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('security (engine.md section 6)', () => {
  it('1. CVE-2019-5736: a container cannot overwrite the helper, tsc-init or node through /proc/PID/exe', async () => {
    const root = await makeRuntimeRoot();
    // Work on copies: should the protection fail, only they are damaged. The container's monitor runs copy A
    // (which it keeps busy, so that it could not be written anyway); the execs run copy B, idle between execs.
    const helperA = join(root.dir, 'helperA');
    const helperB = join(root.dir, 'helperB');
    for (const d of [helperA, helperB]) cpSync(join(repoRoot, 'native/build'), d, { recursive: true });
    const hashes = () => ({
      helperA: sha256(join(helperA, 'tsc-helper')), helperB: sha256(join(helperB, 'tsc-helper')), init: sha256(join(helperA, 'tsc-init')), node: sha256(process.execPath),
    });
    const before = hashes();
    process.env.TSCOMPOSE_HELPER_DIR = helperA;
    try {
      const tools = join(root.dir, 'tools');
      mkdirSync(tools);
      execFileSync('gcc', ['-static', '-O2', '-o', join(tools, 'exe-overwrite'), join(repoRoot, 'test/runtime/fixtures/exe-overwrite.c')]);
      // The control: a binary reached through a writable bind mount is fair game for the exploit.
      copyFileSync('/bin/busybox', join(tools, 'victim'));
      chmodSync(join(tools, 'victim'), 0o755);
      const victim = sha256(join(tools, 'victim'));
      writeFileSync(join(tools, 'shebang'), '#!/proc/self/exe\n');
      chmodSync(join(tools, 'shebang'), 0o755);
      const id = await root.create({ init: true, mounts: [{ type: 'bind', source: tools, target: '/tools' }], cmd: ['/tools/exe-overwrite', '8'] });
      await root.runtime.start(id);
      process.env.TSCOMPOSE_HELPER_DIR = helperB;
      // Every exec passes through the helper inside the container's pid namespace. The exploit also gets at
      // the container's own binaries (copied up into its writable layer): its own business, not an escape.
      for (let i = 0; i < 40; i++) {
        for (const cmd of [['/tools/victim', 'true'], ['/tools/shebang'], ['true']]) {
          await root.runtime.execCapture(id, { cmd }).catch(() => undefined);
        }
      }
      const exit = await root.runtime.waitExit(id);
      let out = '';
      for await (const e of root.runtime.logs(id)) out += `${e.line}\n`;
      expect(exit.exitCode, out).toBe(0);
      expect(out).toMatch(/attempts=\d+ handles=\d+ wrote=\d+/);
      // The exploit works: it got the victim. It got nothing of ours.
      expect(sha256(join(tools, 'victim')), out).not.toBe(victim);
      expect(out.split('\n').filter((l) => l.startsWith('WROTE')).every((l) => /victim|busybox/.test(l)), out).toBe(true);
      const layer = (await root.store.get('busybox')).chainIds[0]!;
      expect(sha256(join(root.state, 'image/layers', layer.slice(7), 'diff/bin/busybox'))).toBe(sha256(await busyboxBinary()));
      // It did get handles on the helper's second stage (a detached read-only mount of one file reads as "/"): they were no use.
      expect(out).toMatch(/^HANDLE \/proc\/\d+\/exe -> \/$/m);
      expect(hashes()).toEqual(before);
      await root.runtime.remove(id);
    } finally {
      delete process.env.TSCOMPOSE_HELPER_DIR;
    }
  });

  it('2. leaked fds (CVE-2024-21626): only 0-2 inside; a working dir through /proc/self/fd/N is refused', async () => {
    const root = await makeRuntimeRoot();
    const r = await runToEnd(root, sh('ls -l /proc/self/fd | grep -c -- "->"; for f in /proc/1/fd/*; do readlink $f; done'));
    expect(r.stdout.split('\n')[0]).toBe('3');
    expect(r.stdout.split('\n').slice(1).filter(Boolean)).toEqual(['/dev/null', expect.stringMatching(/^pipe:/), expect.stringMatching(/^pipe:/)]);
    await root.runtime.remove(r.id);
    for (let fd = 3; fd <= 12; fd++) {
      const id = await root.create({ workingDir: `/proc/self/fd/${fd}`, cmd: ['pwd'] });
      // Refused one way or another (no such fd, a magic link, outside the root): never run.
      await expect(root.runtime.start(id), `fd ${fd}`).rejects.toThrow(`/proc/self/fd/${fd}`);
      await root.runtime.remove(id);
    }
    const id = await root.create({ cmd: ['sleep', '100'] });
    await root.runtime.start(id);
    for (let fd = 3; fd <= 12; fd++) {
      await expect(root.runtime.execCapture(id, { cmd: ['pwd'], workingDir: `/proc/self/fd/${fd}` }), `exec fd ${fd}`).rejects.toThrow(`/proc/self/fd/${fd}`);
    }
    await root.runtime.remove(id, { force: true });
  });

  it('3. mount destinations that are symlinks out of the root (CVE-2021-30465) stay inside it, also when a container plants them', async () => {
    const root = await makeRuntimeRoot();
    const escape = join(root.dir, 'escape');
    mkdirSync(escape);
    const out = (name: string) => `/../../../../../..${escape}/${name}`;
    await imageWith(root, 'evil', (dir) => {
      for (const f of ['etc/hosts', 'etc/resolv.conf', 'etc/hostname']) {
        rmSync(join(dir, f), { force: true });
        symlinkSync(out(f.replace('/', '-')), join(dir, f));
      }
      rmSync(join(dir, 'dev'), { recursive: true, force: true });
      symlinkSync(out('dev'), join(dir, 'dev'));
      symlinkSync(out('volume'), join(dir, 'data'));
      symlinkSync(out('tmpfs'), join(dir, 'scratch'));
    });
    const r = await runToEnd(root, {
      image: 'evil',
      mounts: [{ type: 'volume', source: 'vol', target: '/data' }, { type: 'tmpfs', target: '/scratch' }],
      ...sh('cat /etc/hostname; ls /dev/null; echo x > /data/file; echo y > /scratch/file; cat /proc/1/cmdline >/dev/null && echo proc-ok'),
    });
    expect(r.code, r.out).toBe(0);
    expect(r.stdout).toContain('proc-ok');
    expect(readdirSync(escape)).toEqual([]);
    expect(mountsUnder(escape)).toEqual([]);
    await root.runtime.remove(r.id);

    // /proc itself a symlink: refused outright, as runc does (CVE-2019-19921).
    await imageWith(root, 'evilproc', (dir) => {
      rmSync(join(dir, 'proc'), { recursive: true, force: true });
      symlinkSync(out('proc'), join(dir, 'proc'));
    });
    const p = await root.create({ image: 'evilproc', cmd: ['true'] });
    await expect(root.runtime.start(p)).rejects.toThrow(/\/proc must not be a symlink/);
    expect(readdirSync(escape)).toEqual([]);
    await root.runtime.remove(p);

    // A container plants a symlink in a shared volume; the next container mounts over that path.
    const plant = await runToEnd(root, { mounts: [{ type: 'volume', source: 'shared', target: '/shared' }], ...sh(`ln -s ${out('planted')} /shared/evil`) });
    await root.runtime.remove(plant.id);
    const victim = await runToEnd(root, {
      mounts: [{ type: 'volume', source: 'shared', target: '/shared' }, { type: 'tmpfs', target: '/shared/evil' }, { type: 'bind', source: join(root.dir, 'escape'), target: '/shared/evil/sub' }],
      ...sh('echo z > /shared/evil/sub/../file; ls /shared'),
    });
    expect(victim.code, victim.out).toBe(0);
    expect(readdirSync(escape)).toEqual([]);
    expect(mountsUnder(escape)).toEqual([]);
    await root.runtime.remove(victim.id);
    for (const v of ['vol', 'shared']) await root.runtime.volumes.remove(v);
  });

  it('4. masking fails closed when /dev/null is not the null device (CVE-2025-31133)', async () => {
    const root = await makeRuntimeRoot();
    // An image's own /dev/null is hidden under the container's /dev: masking uses the real one.
    await imageWith(root, 'fakenull', (dir) => writeFileSync(join(dir, 'dev', 'null'), 'not a device'));
    const ok = await runToEnd(root, { image: 'fakenull', ...sh('stat -c "%t:%T" /dev/null; grep -c " /proc/timer_list " /proc/mounts') });
    expect(ok.stdout).toBe('1:3\n1\n');
    await root.runtime.remove(ok.id);
    // A /dev that is a host directory holding a regular file "null": no mask may be made of it.
    const fakeDev = join(root.dir, 'fakedev');
    mkdirSync(fakeDev);
    writeFileSync(join(fakeDev, 'null'), 'secret');
    const id = await root.create({ mounts: [{ type: 'bind', source: fakeDev, target: '/dev' }], cmd: ['true'] });
    await expect(root.runtime.start(id)).rejects.toThrow(/refusing to mask .*: \/dev\/null in the container is not the null device/);
    expect(readFileSync(join(fakeDev, 'null'), 'utf8')).toBe('secret');
    await root.runtime.remove(id);
  });

  it('7. default hardening: no mounts, no user namespaces, no block devices, read-only kernel knobs, seccomp on', async () => {
    const root = await makeRuntimeRoot();
    const r = await runToEnd(root, sh([
      'mount -t tmpfs x /tmp 2>/dev/null && echo MOUNTED',
      'unshare -U true 2>/dev/null && echo USERNS',
      'unshare -m true 2>/dev/null && echo MOUNTNS',
      'mknod /tmp/sda b 8 0 && (head -c 1 /tmp/sda >/dev/null 2>&1 && echo READ-BLOCK || echo block-refused)',
      'echo 1 > /proc/sys/kernel/printk 2>/dev/null && echo PROCSYS',
      'echo h > /proc/sysrq-trigger 2>/dev/null && echo SYSRQ',
      'cat /proc/kcore 2>/dev/null | wc -c',
      'touch /sys/x 2>/dev/null && echo SYS',
      'grep -E "^(CapEff|Seccomp|NoNewPrivs):" /proc/self/status',
    ].join('; ')));
    expect(r.stdout).toBe('block-refused\n0\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t2\n');
    await root.runtime.remove(r.id);
    // Privileges are the user's to grant: with SYS_ADMIN, mounting works (and the filter lets it).
    const admin = await runToEnd(root, { capAdd: ['SYS_ADMIN'], ...sh('mount -t tmpfs x /tmp && echo mounted; unshare -m true && echo mountns') });
    expect(admin.stdout).toBe('mounted\nmountns\n');
    await root.runtime.remove(admin.id);
    const nnp = await runToEnd(root, { noNewPrivileges: true, capDrop: ['ALL'], user: '1000', ...sh('grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status') });
    expect(nnp.stdout).toBe('CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\n');
    await root.runtime.remove(nnp.id);
  });

  it('privileged: every capability the engine holds, no seccomp filter, writable /proc/sys and /sys, the host\'s devices', async () => {
    const root = await makeRuntimeRoot();
    const r = await runToEnd(root, { privileged: true, ...sh('grep -E "^(CapEff|Seccomp):" /proc/self/status; touch /proc/sys/kernel/x 2>&1 | grep -c "Read-only"; grep -E " /sys sysfs rw," /proc/mounts | wc -l; ls /dev') });
    const [capEff, seccomp, roCount, sysRw] = r.stdout.split('\n');
    const host = /^CapBnd:\s*(\w+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1];
    expect(capEff).toBe(`CapEff:\t${host}`);
    expect(seccomp).toBe('Seccomp:\t0');
    expect([roCount, sysRw]).toEqual(['0', '1']);
    const hostDevs = readdirSync('/dev').filter((d) => { const st = statSync(`/dev/${d}`, { throwIfNoEntry: false }); return st && (st.isBlockDevice() || st.isCharacterDevice()); });
    for (const d of hostDevs.filter((d) => d !== 'console' && d !== 'ptmx')) expect(r.stdout.split('\n'), d).toContain(d);
    await root.runtime.remove(r.id);
  });

  it('ipc sharing takes the other container\'s /dev/shm only as the tmpfs directory it should be, never through a symlink planted there', async () => {
    const root = await makeRuntimeRoot();
    // A privileged donor swaps its /dev/shm for a symlink to its /etc.
    const donor = await root.create({ privileged: true, ...sh('umount /dev/shm && rmdir /dev/shm && ln -s /etc /dev/shm && touch /ready; exec sleep 600') });
    await root.runtime.start(donor);
    const ready = join((await root.runtime.inspect(donor)).GraphDriver.Data.UpperDir, 'ready');
    for (let i = 0; i < 200 && !existsSync(ready); i++) await sleep(50);
    expect(existsSync(ready)).toBe(true);
    const peer = await root.create({ namespaces: { ipc: { container: donor } }, ...sh('ls /dev/shm') });
    await expect(root.runtime.start(peer)).rejects.toThrow(/refusing to share \/dev\/shm: in the container sharing it, it is not a tmpfs directory/);
    await root.runtime.remove(peer, { force: true });
    await root.runtime.remove(donor, { force: true });
  });

  it("personality values as Docker's profile allows them; every container, privileged too, in a session keyring of its own", async () => {
    const root = await makeRuntimeRoot();
    const tools = join(root.dir, 'tools');
    mkdirSync(tools);
    execFileSync('gcc', ['-static', '-O2', '-o', join(tools, 'probe'), join(repoRoot, 'test/runtime/fixtures/persona-keyring.c')]);
    const mounts = [{ type: 'bind' as const, source: tools, target: '/tools', readOnly: true }];
    const r = await runToEnd(root, { mounts, cmd: ['/tools/probe'] });
    expect(r.stdout).toBe('0 ok\n0x8 ok\n0x20000 ok\n0x20008 ok\n0xffffffff ok\n0x40000 Operation not permitted\n0x400000 Operation not permitted\n');
    // The host's session keyring is the one this process (and so the engine's helper) has.
    const host = execFileSync(join(tools, 'probe'), ['keyring'], { encoding: 'utf8' });
    expect(host).toMatch(/^session \d+\n$/);
    const privileged = await runToEnd(root, { privileged: true, mounts, cmd: ['/tools/probe', 'keyring'] });
    expect(privileged.stdout).toMatch(/^session \d+\n$/);
    expect(privileged.stdout).not.toBe(host);
    const again = await runToEnd(root, { privileged: true, mounts, cmd: ['/tools/probe', 'keyring'] });
    expect(again.stdout).not.toBe(privileged.stdout);
    for (const id of [r.id, privileged.id, again.id]) await root.runtime.remove(id);
  });

  it('10. engine state is root-only: an unprivileged host user reaches nothing of it', async () => {
    const root = await makeRuntimeRoot();
    const id = await root.create({ mounts: [{ type: 'volume', source: 'vv', target: '/v' }], cmd: ['true'] });
    for (const dir of [root.state, join(root.state, 'containers'), join(root.state, 'containers', id), join(root.state, 'volumes'), join(root.state, 'image')]) {
      expect((statSync(dir).mode & 0o077).toString(8), dir).toBe('0');
      const r = spawnSync('ls', [dir], { uid: 65534, gid: 65534 });
      expect(r.status, dir).not.toBe(0);
    }
    const upper = join(root.state, 'image', 'rw', id, 'upper');
    expect(spawnSync('ls', [upper], { uid: 65534, gid: 65534 }).status).not.toBe(0);
    await root.runtime.remove(id, { volumes: true });
    await root.runtime.volumes.remove('vv');
    void existsSync;
    void unlinkSync;
    void sleep;
  });
});
