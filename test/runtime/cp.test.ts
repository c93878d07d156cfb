import { describe, it, expect, afterEach, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { checkNoLeaks, ensureBuilt, makeRuntimeRoot, sh } from './helpers.js';

beforeAll(ensureBuilt);
afterEach(checkNoLeaks);

describe('tscompose container cp', () => {
  it('copies files and directories out of and into a running container, as docker cp does', async () => {
    const root = await makeRuntimeRoot();
    const id = await root.create(sh('mkdir -p /data/sub; echo a > /data/a; echo b > /data/sub/b; ln -s a /data/link; chown -R 1000:50 /data; exec sleep 1000'));
    await root.runtime.start(id);
    for (let i = 0; i < 100 && root.cli(['container', 'exec', id, 'test', '-e', '/data/link']).code !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    const out = join(root.dir, 'out');
    mkdirSync(out);
    expect(root.cli(['container', 'cp', `${id}:/data/a`, join(out, 'a.txt')]).code).toBe(0);
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('a\n');
    // An existing directory receives the source by its name; a missing one becomes the copy.
    expect(root.cli(['container', 'cp', `${id}:/data`, out]).code).toBe(0);
    expect(readFileSync(join(out, 'data/sub/b'), 'utf8')).toBe('b\n');
    expect(readlinkSync(join(out, 'data/link'))).toBe('a');
    expect(statSync(join(out, 'data/a')).uid).toBe(0);
    expect(root.cli(['container', 'cp', '-a', `${id}:/data`, join(out, 'copy')]).code).toBe(0);
    expect(readdirSync(join(out, 'copy')).sort()).toEqual(['a', 'link', 'sub']);
    expect(statSync(join(out, 'copy/sub/b'))).toMatchObject({ uid: 1000, gid: 50 });
    expect(root.cli(['container', 'cp', `${id}:/data/sub/.`, join(out, 'copy')]).code).toBe(0);
    expect(readFileSync(join(out, 'copy/b'), 'utf8')).toBe('b\n');
    const missing = root.cli(['container', 'cp', `${id}:/nope`, out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Could not find the file /nope in container');

    // Into the container.
    const src = join(root.dir, 'src');
    mkdirSync(join(src, 'deep'), { recursive: true });
    writeFileSync(join(src, 'deep/f'), 'host file\n');
    symlinkSync('deep/f', join(src, 'ln'));
    expect(root.cli(['container', 'cp', src, `${id}:/tmp`]).code).toBe(0);
    expect(root.cli(['container', 'cp', join(src, 'deep/f'), `${id}:/tmp/renamed`]).code).toBe(0);
    expect(root.cli(['container', 'exec', id, 'sh', '-c', 'cat /tmp/src/deep/f /tmp/renamed; readlink /tmp/src/ln; stat -c %u /tmp/renamed']).stdout).toBe('host file\nhost file\ndeep/f\n0\n');
    expect(root.cli(['container', 'cp', join(src, 'deep/f'), `${id}:/nowhere/x/`]).code).toBe(1);
    await root.runtime.remove(id, { force: true });
  });

  it('copies a tar to stdout and from stdin', async () => {
    const root = await makeRuntimeRoot();
    const id = await root.create({ cmd: ['sleep', '1000'] });
    await root.runtime.start(id);
    const tarPath = join(root.dir, 'etc.tar');
    const chunks: Buffer[] = [];
    const { Writable } = await import('node:stream');
    await root.runtime.copyFrom(id, '/etc', '-', {}, new Writable({ write(c, _e, cb) { chunks.push(c as Buffer); cb(); } }));
    writeFileSync(tarPath, Buffer.concat(chunks));
    const list = execFileSync('tar', ['-tf', tarPath], { encoding: 'utf8' }).split('\n');
    expect(list).toContain('etc/');
    expect(list).toContain('etc/passwd');
    const { createReadStream } = await import('node:fs');
    await root.runtime.copyTo(id, '-', '/tmp', {}, createReadStream(tarPath));
    expect((await root.runtime.execCapture(id, { cmd: ['cat', '/tmp/etc/group'] })).stdout).toContain('staff:x:50:user');
    await root.runtime.remove(id, { force: true });
  });

  it('copies to and from a container that is not running, volumes included', async () => {
    const root = await makeRuntimeRoot();
    const id = await root.create({ mounts: [{ type: 'volume', source: 'cpvol', target: '/vol' }], cmd: ['sh', '-c', 'cat /vol/in /in'] });
    const f = join(root.dir, 'in');
    writeFileSync(f, 'copied\n');
    await root.runtime.copyTo(id, f, '/vol/in');
    await root.runtime.copyTo(id, f, '/in');
    await root.runtime.start(id);
    await root.runtime.waitExit(id);
    let out = '';
    for await (const e of root.runtime.logs(id)) out += `${e.line}\n`;
    expect(out).toBe('copied\ncopied\n');
    await root.runtime.copyFrom(id, '/vol/in', join(root.dir, 'back'));
    expect(readFileSync(join(root.dir, 'back'), 'utf8')).toBe('copied\n');
    expect(readFileSync(join(root.runtime.volumes.get('cpvol').Mountpoint, 'in'), 'utf8')).toBe('copied\n');
    await root.runtime.remove(id);
    await root.runtime.volumes.remove('cpvol');
  });

  it('6. stays inside the container while it swaps symlinks under the copy (CVE-2018-15664)', async () => {
    const root = await makeRuntimeRoot();
    const secret = join(root.dir, 'secret');
    mkdirSync(secret);
    writeFileSync(join(secret, 'data'), 'HOST SECRET\n');
    const link = `/../../../../../../..${secret}`;
    const id = await root.create(sh(`mkdir -p /inner; echo container > /inner/data; while :; do rm -rf /w; ln -s /inner /w; rm -rf /w; ln -s ${link} /w; done`));
    await root.runtime.start(id);
    const payload = join(root.dir, 'payload');
    writeFileSync(payload, 'from host\n');
    let seen = 0;
    for (let i = 0; i < 60; i++) {
      const dest = join(root.dir, `got${i}`);
      await root.runtime.copyFrom(id, '/w/data', dest).then(() => {
        seen++;
        expect(readFileSync(dest, 'utf8')).toBe('container\n');
      }, () => undefined);
      await root.runtime.copyTo(id, payload, '/w/').catch(() => undefined);
    }
    expect(seen).toBeGreaterThan(0);
    expect(readdirSync(secret)).toEqual(['data']);
    expect(readFileSync(join(secret, 'data'), 'utf8')).toBe('HOST SECRET\n');
    expect(existsSync(join(secret, 'payload'))).toBe(false);
    await root.runtime.remove(id, { force: true });
  });
});
