import { describe, it, expect, afterEach } from 'vitest';
import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { importRootfsTar } from '../../src/engine/native/image/index.js';
import { busyboxRootfsTar } from '../support/images.js';
import { checkNoLeaks, ensureBuilt, makeRuntimeRoot, runToEnd, sh } from './helpers.js';
import { beforeAll } from 'vitest';

beforeAll(ensureBuilt);
afterEach(checkNoLeaks);

describe('runtime: volumes, binds, tmpfs, read-only root, /etc files', () => {
  it("keeps a named volume's data after the container is removed (acceptance 3)", async () => {
    const root = await makeRuntimeRoot();
    const w = await runToEnd(root, { mounts: [{ type: 'volume', source: 'data', target: '/data' }], ...sh('echo persisted > /data/file') });
    expect(w.code).toBe(0);
    await root.runtime.remove(w.id, { volumes: true });
    expect(root.runtime.volumes.get('data').Name).toBe('data');
    const r = await runToEnd(root, { mounts: [{ type: 'volume', source: 'data', target: '/elsewhere' }], cmd: ['cat', '/elsewhere/file'] });
    expect(r.stdout).toBe('persisted\n');
    await root.runtime.remove(r.id);
    await root.runtime.volumes.remove('data');
  });

  it('fills a new volume from the image at its mount point (ownership and modes too), never a used one', async () => {
    const root = await makeRuntimeRoot();
    const first = await runToEnd(root, { mounts: [{ type: 'volume', source: 'homes', target: '/home' }], ...sh('ls -ln /home; echo mine > /home/user/note') });
    expect(first.stdout).toMatch(/^drwx.* 1000\s+1000 .* user$/m);
    const data = root.runtime.volumes.get('homes').Mountpoint;
    expect(statSync(join(data, 'user')).uid).toBe(1000);
    await root.runtime.remove(first.id);
    // Not empty any more: mounting it over /usr must not copy /usr into it.
    const second = await runToEnd(root, { mounts: [{ type: 'volume', source: 'homes', target: '/usr' }], cmd: ['ls', '/usr'] });
    expect(second.stdout).toBe('user\n');
    await root.runtime.remove(second.id);
    // nocopy: an empty volume stays empty.
    const third = await runToEnd(root, { mounts: [{ type: 'volume', source: 'bare', target: '/usr', options: { noCopy: true } }], cmd: ['ls', '/usr'] });
    expect(third.stdout).toBe('');
    await root.runtime.remove(third.id);
    await root.runtime.volumes.remove('homes');
    await root.runtime.volumes.remove('bare');
  });

  it("gives an image's VOLUMEs anonymous volumes, filled from the image; rm -v removes them, named ones stay", async () => {
    const root = await makeRuntimeRoot();
    await importRootfsTar(root.store, await busyboxRootfsTar(), { tags: ['withvol'], changes: ['VOLUME /etc /var/data'] });
    const id = await root.create({ image: 'withvol', mounts: [{ type: 'volume', source: 'named', target: '/var/data' }], cmd: ['ls', '/etc'] });
    const info = await root.runtime.inspect(id);
    const anon = info.Mounts.find((m) => m.Destination === '/etc')!;
    expect(anon).toMatchObject({ Type: 'volume', Driver: 'local', RW: true });
    expect(anon.Name).toMatch(/^[0-9a-f]{64}$/);
    expect(info.Mounts.find((m) => m.Destination === '/var/data')!.Name).toBe('named');
    await root.runtime.start(id);
    await root.runtime.waitExit(id);
    expect(readdirSync(root.runtime.volumes.get(anon.Name!).Mountpoint)).toContain('passwd');
    expect(root.runtime.volumes.get(anon.Name!).Labels).toHaveProperty('com.docker.volume.anonymous');
    await root.runtime.remove(id, { volumes: true });
    expect(root.runtime.volumes.read(anon.Name!)).toBeUndefined();
    expect(root.runtime.volumes.read('named')).toBeDefined();
    await root.runtime.volumes.remove('named');
  });

  it('binds host paths (read-only refuses writes), mounts tmpfs with its size, and honours a read-only root', async () => {
    const root = await makeRuntimeRoot();
    const host = join(root.dir, 'hostdir');
    mkdirSync(host);
    writeFileSync(join(host, 'in'), 'from host\n');
    const r = await runToEnd(root, {
      readOnlyRootfs: true,
      mounts: [
        { type: 'bind', source: host, target: '/mnt/rw' },
        { type: 'bind', source: host, target: '/mnt/ro', readOnly: true },
        { type: 'tmpfs', target: '/scratch', options: { tmpfsSize: 1024 * 1024 } },
      ],
      ...sh([
        'cat /mnt/ro/in',
        'echo out > /mnt/rw/out',
        'echo x > /mnt/ro/x || echo ro-refused',
        'touch /newfile || echo rootfs-refused',
        'echo ok > /etc/hostname && echo etc-files-writable',
        'dd if=/dev/zero of=/scratch/big bs=1k count=2048 2>/dev/null || echo tmpfs-full',
        'grep " /scratch " /proc/mounts',
      ].join('; ')),
    });
    expect(r.stdout).toMatch(/^from host\nro-refused\nrootfs-refused\netc-files-writable\ntmpfs-full\ntmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k/);
    expect(readFileSync(join(host, 'out'), 'utf8')).toBe('out\n');
    expect(existsSync(join(host, 'x'))).toBe(false);
    await root.runtime.remove(r.id);
  });

  it('writes /etc/hosts, /etc/hostname and /etc/resolv.conf per container', async () => {
    const root = await makeRuntimeRoot();
    const r = await runToEnd(root, { hostname: 'h1', domainname: 'example.org', extraHosts: ['db.local:10.1.2.3', 'v6:[fd00::1]'], dns: { servers: ['10.0.0.53'], search: ['example.org'] }, ...sh('cat /etc/hosts /etc/hostname /etc/resolv.conf; hostname; cat /proc/sys/kernel/domainname') });
    expect(r.stdout).toContain('127.0.0.1\tlocalhost\n');
    expect(r.stdout).toContain('10.1.2.3\tdb.local\nfd00::1\tv6\n');
    expect(r.stdout).toContain('h1\n');
    expect(r.stdout).toContain('search example.org\nnameserver 10.0.0.53\n');
    expect(r.stdout.trim().split('\n').slice(-2)).toEqual(['h1', 'example.org']);
    await root.runtime.remove(r.id);
  });

  it('tscompose volume: create, ls, inspect, rm (refused while in use), prune, bind driver options', async () => {
    const root = await makeRuntimeRoot();
    expect(root.cli(['volume', 'create', '--label', 'team=a', 'v1'])).toMatchObject({ code: 0, stdout: 'v1\n' });
    const device = join(root.dir, 'device');
    mkdirSync(device);
    writeFileSync(join(device, 'seed'), 'seeded\n');
    expect(root.cli(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${device}`, 'v2']).code).toBe(0);
    expect(root.cli(['volume', 'create', '-o', 'type=nfs', 'v3'])).toMatchObject({ code: 1 });
    expect(root.cli(['volume', 'ls']).stdout).toBe('DRIVER    VOLUME NAME\nlocal     v1\nlocal     v2\n');
    expect(root.cli(['volume', 'ls', '-q', '--filter', 'label=team=a']).stdout).toBe('v1\n');
    const inspect = JSON.parse(root.cli(['volume', 'inspect', 'v1']).stdout);
    expect(inspect[0]).toMatchObject({ Name: 'v1', Driver: 'local', Labels: { team: 'a' }, Scope: 'local', Mountpoint: join(root.state, 'volumes/v1/_data') });
    expect(root.cli(['volume', 'inspect', 'nope'])).toMatchObject({ code: 1, stderr: 'Error: No such volume: nope\n' });

    const id = root.cli(['container', 'run', '-d', '--network', 'none', '-v', 'v2:/seeded', 'busybox', 'sleep', '100']).stdout.trim();
    expect(root.cli(['container', 'exec', id, 'cat', '/seeded/seed']).stdout).toBe('seeded\n');
    const inUse = root.cli(['volume', 'rm', 'v2']);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain('volume is in use');
    root.cli(['container', 'rm', '-f', id]);

    const anonId = root.cli(['container', 'create', '--network', 'none', '-v', '/anon', 'busybox', 'true']).stdout.trim();
    root.cli(['container', 'rm', anonId]);
    expect(root.cli(['volume', 'ls', '-q']).stdout.trim().split('\n')).toHaveLength(3);
    const prune = root.cli(['volume', 'prune', '-f']);
    expect(prune.stdout).toMatch(/^Deleted Volumes:\n[0-9a-f]{64}\n\nTotal reclaimed space: /);
    expect(root.cli(['volume', 'ls', '-q']).stdout).toBe('v1\nv2\n');
    expect(root.cli(['volume', 'rm', 'v1', 'v2']).stdout).toBe('v1\nv2\n');
    expect(readFileSync(join(device, 'seed'), 'utf8')).toBe('seeded\n');
  });
});
