import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/util/proc.js';
import { HelperConfig } from '../../src/engine/native/runtime/helper.js';
import { busyboxRootfsTar } from '../support/images.js';
import { repoRoot } from '../support/cache.js';
import { installGlobally, npm, packTree, runOk, userEnv } from '../support/package.js';
import { forceRemoveRoot, settledLeftovers } from '../native-engine/support.js';
import { elfFacts } from './elf.js';

/**
 * The npm package as a user gets it: packed (`npm pack`, its prepack and
 * prepare scripts building the bundle, the declarations and the helpers for
 * x64 and arm64) from a copy of this tree, so that no other test's dist/
 * changes under it; installed with --ignore-scripts into a prefix of its
 * own, as `npm install -g` does; and run from there, with a state root of
 * its own. The example project installs the same tarball as a consumer.
 * One pack and one install for the whole file: they are most of its time.
 */

const STACK = `
services:
  web:
    image: busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo hello from web > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["127.0.0.1::80"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]
      interval: 1s
      start_interval: 200ms
      start_period: 10s
  client:
    image: busybox:latest
    command: ["sh", "-c", "wget -q -O - http://web/ && exec sleep 3600"]
    depends_on:
      web: { condition: service_healthy }
  store:
    image: busybox:latest
    command: ["sh", "-c", "echo kept > /data/kept && exec sleep 3600"]
    volumes: ["data:/data"]
volumes:
  data: {}
`;

let work: string;
let tarball: string;
let prefix: string;
let installed: string;
let example: string;
let root: { dir: string; state: string; run: string };
const cli = () => join(prefix, 'bin', 'tscompose');

const env = (extra: Record<string, string> = {}) => userEnv({ TSCOMPOSE_CACHE_DIR: join(work, 'cache'), ...extra });
const ok = (cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) => runOk(cmd, args, { cwd: opts.cwd ?? work, env: opts.env ?? env() });
const rootEnv = (extra: Record<string, string> = {}) => env({ TSCOMPOSE_ROOT: root.state, TSCOMPOSE_RUN: root.run, ...extra });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsc-package-'));
  chmodSync(work, 0o755); // another user runs the installed CLI below
  tarball = await packTree(work);
  expect(tarball).toBe(join(work, 'tscompose-0.1.0.tgz'));
  prefix = join(work, 'prefix');
  example = join(work, 'example');
  cpSync(join(repoRoot, 'examples', 'node-api'), example, { recursive: true, filter: (src) => !/node_modules|package-lock/.test(src) });
  // The user's two installs: the CLI globally, the example's own dependencies with the tarball.
  [installed] = await Promise.all([installGlobally(tarball, prefix), npm(['install', '--ignore-scripts', tarball], example)]);

  const dir = join(work, 'roots');
  root = { dir, state: join(dir, 'state'), run: join(dir, 'run') };
  await ok(cli(), ['image', 'import', '--change', 'CMD ["sh"]', await busyboxRootfsTar(), 'busybox:latest'], { env: rootEnv() });
}, 600_000);

afterAll(async () => {
  if (root) {
    const left = await settledLeftovers({ ...root, env: {} });
    forceRemoveRoot(root);
    if (left.length) throw new Error(`the package's tests left behind:\n  ${left.join('\n  ')}`);
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('holds the bundle, declarations, static helpers for x64 and arm64, the schema, README and licence, and nothing else, in under 5 MB', () => {
    // `tar -tv`: mode, owner, size, date, time, name.
    const entries = execFileSync('tar', ['-tvzf', tarball], { encoding: 'utf8' }).split('\n').filter((l) => l && !l.startsWith('d'))
      .map((l) => { const [, size, name] = /^\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.+)$/.exec(l) ?? []; return { size: Number(size), name: name!.replace(/^package\//, '') }; });
    const files = entries.map((e) => e.name);
    const size = statSync(tarball).size;
    const unpacked = entries.reduce((sum, e) => sum + e.size, 0);
    console.log(`tarball: ${(size / 1e6).toFixed(2)} MB packed, ${(unpacked / 1e6).toFixed(2)} MB unpacked, ${files.length} files`);
    expect(size).toBeLessThan(5e6);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'bin/tscompose', 'bin/package.json', 'schemas/compose.schema.json', 'dist/bundle/tscompose.cjs', 'dist/bundle/network-daemon.cjs',
      'dist/bundle/compile-cache.cjs', 'dist/bundle/api.mjs', 'dist/types/package/index.d.ts', 'dist/types/package/stack.d.ts',
      'dist/native/linux-x64/tsc-helper', 'dist/native/linux-x64/tsc-init', 'dist/native/linux-x64/syscalls', 'dist/native/linux-arm64/tsc-helper',
      'dist/native/linux-arm64/tsc-init', 'dist/native/linux-arm64/syscalls']) {
      expect(files).toContain(f);
    }
    const unexpected = files.filter((f) => !/^(package\.json|README\.md|LICENSE|bin\/tscompose|bin\/package\.json|schemas\/compose\.schema\.json|dist\/bundle\/[\w-]+\.(cjs|mjs)|dist\/types\/[\w/.-]+\.d\.ts|dist\/native\/linux-(x64|arm64)\/(tsc-helper|tsc-init|syscalls))$/.test(f));
    expect(unexpected).toEqual([]);
    // No scripts that an install would run: it needs none, and runs none even where they are allowed.
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    expect(Object.keys(manifest.scripts ?? {}).filter((s) => /^(pre|post)?install$/.test(s))).toEqual([]);
  });

  it('has the helpers statically linked for their architecture, and the arm64 one answers its self-test under qemu-user', () => {
    for (const [arch, machine] of [['x64', 'x86-64'], ['arm64', 'aarch64']] as const) {
      for (const name of ['tsc-helper', 'tsc-init']) {
        expect(elfFacts(join(installed, 'dist/native', `linux-${arch}`, name))).toEqual({ machine, static: true });
      }
    }
    const fields = ['two words', '', 'tab\there', 'back\\slash', 'new\nline', 'ünïcödé', '\\e'];
    const conf = join(work, 'selftest.conf');
    writeFileSync(conf, new HelperConfig().add('arg', ...fields).add('env', 'K=v').text());
    const expected = `arg ${fields.map((f) => (f ? Buffer.from(f).toString('hex') : '-')).join(' ')}\nenv ${Buffer.from('K=v').toString('hex')}\n`;
    const x64 = spawnSync(join(installed, 'dist/native/linux-x64/tsc-helper'), ['selftest', conf], { encoding: 'utf8' });
    expect(x64.stdout).toBe(`${expected}arch x86_64\nok 2\n`);
    const arm64 = spawnSync('qemu-aarch64-static', [join(installed, 'dist/native/linux-arm64/tsc-helper'), 'selftest', conf], { encoding: 'utf8' });
    expect(arm64.error).toBeUndefined();
    expect(arm64.stdout).toBe(`${expected}arch aarch64\nok 2\n`);
    // Each helper's seccomp table is its own ABI's, from its compiler's headers: mount is 165 on x86-64, 40 on arm64.
    expect(readFileSync(join(installed, 'dist/native/linux-x64/syscalls'), 'utf8')).toMatch(/^x86_64 mount 165$/m);
    expect(readFileSync(join(installed, 'dist/native/linux-arm64/syscalls'), 'utf8')).toMatch(/^aarch64 mount 40$/m);
    expect(readFileSync(join(installed, 'dist/native/linux-arm64/syscalls'), 'utf8')).not.toMatch(/^x86_64 /m);
  });

  it('runs without a build or a compiler, through npm\'s link, a link of one\'s own, and as a user who cannot write its directory', async () => {
    expect(readlinkSync(cli())).toBe('../lib/node_modules/tscompose/bin/tscompose');
    expect((await ok(cli(), ['--version'])).stdout).toBe('0.1.0\n');
    const own = join(work, 'links', 'tsc');
    mkdirSync(dirname(own));
    symlinkSync(join(installed, 'bin', 'tscompose'), own);
    expect((await ok(own, ['--version'])).stdout).toBe('0.1.0\n');
    // The code cache: beside nothing of the package's, and made where the user's cache is.
    expect(readdirSync(join(work, 'cache', 'v8')).some((f) => /^cli\.cjs\.[0-9a-f]{16}\.\d+\.\d+$/.test(f))).toBe(true);
    expect(readdirSync(join(installed, 'dist', 'bundle')).filter((f) => f.startsWith('.'))).toEqual([]);
    // nobody owns neither the package nor a home: no cache, and the CLI works the same.
    const project = join(work, 'as-nobody');
    mkdirSync(project);
    writeFileSync(join(project, 'compose.yaml'), STACK);
    chmodSync(project, 0o755);
    const asNobody = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', cli(), 'config', '--services'], {
      cwd: project, env: userEnv({ HOME: '/nonexistent' }), encoding: 'utf8',
    });
    expect(asNobody.stderr).toBe('');
    expect(asNobody.stdout.split('\n').filter(Boolean).sort()).toEqual(['client', 'store', 'web']);
  });

  it('brings a three-service stack up from the installed CLI (a port, a name lookup, a named volume), shows it, and takes it down', async () => {
    const project = join(work, 'stack');
    mkdirSync(project);
    writeFileSync(join(project, 'compose.yaml'), STACK);
    const tsc = (...args: string[]) => ok(cli(), ['-p', 'pkgstack', '--progress', 'plain', ...args], { cwd: project, env: rootEnv() });

    await tsc('up', '-d', '--wait');
    const ps = (await tsc('ps', '--format', 'json')).stdout.trim().split('\n').map((l) => JSON.parse(l) as { Service: string; State: string; Health: string });
    expect(ps.map((r) => `${r.Service} ${r.State}`).sort()).toEqual(['client running', 'store running', 'web running']);
    expect(ps.find((r) => r.Service === 'web')?.Health).toBe('healthy');

    const [, hostPort] = /^127\.0\.0\.1:(\d+)$/.exec((await tsc('port', 'web', '80')).stdout.trim()) ?? [];
    expect(await (await fetch(`http://127.0.0.1:${hostPort}/`)).text()).toBe('hello from web\n');
    expect((await tsc('logs', 'client')).stdout).toMatch(/client-1\s+\| hello from web/); // it found "web" by name
    expect((await tsc('exec', '-T', 'store', 'cat', '/data/kept')).stdout).toBe('kept\n');

    // The daemon and the containers' monitors run the installed package's code.
    const daemonPid = readFileSync(join(root.run, 'daemon.pid'), 'utf8').trim().split(/\s+/)[0];
    expect(readFileSync(`/proc/${daemonPid}/cmdline`, 'utf8').split('\0')).toContain(join(installed, 'dist/bundle/network-daemon.cjs'));
    // Other processes come and go meanwhile (other tests'): one gone between the listing and the read is not ours.
    const monitors = readdirSync('/proc').filter((p) => {
      try {
        return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('tsc-monitor') && readFileSync(`/proc/${p}/environ`, 'utf8').includes(`TSCOMPOSE_ROOT=${root.state}`);
      } catch {
        return false;
      }
    });
    expect(monitors.length).toBe(3);
    for (const p of monitors) expect(readlinkSync(`/proc/${p}/exe`)).toBe(join(installed, 'dist/native', `linux-${process.arch}`, 'tsc-helper'));

    await tsc('down', '-v');
    expect((await ok(cli(), ['volume', 'ls', '-q'], { env: rootEnv() })).stdout).toBe('');
    expect(await settledLeftovers({ ...root, env: {} })).toEqual([]);
  });

  it('installs into a project as a consumer does: npx runs it, its types check, and the example\'s suite brings a stack up and leaves nothing', async () => {
    expect((await ok('npx', ['tscompose', '--version'], { cwd: example })).stdout).toBe('0.1.0\n');
    await ok('npx', ['tsc', '--noEmit'], { cwd: example });
    const r = await ok('npx', ['vitest', 'run'], { cwd: example, env: rootEnv({ CI: '1', NO_COLOR: '1' }) });
    expect(r.stdout).toMatch(/Tests\s+5 passed \| 1 expected fail \(6\)/);
    expect(await settledLeftovers({ ...root, env: {} })).toEqual([]);
    expect((await ok(cli(), ['ls', '-a', '-q'], { env: rootEnv() })).stdout).toBe('');
  });

  it('names a missing host program and its package in one line, exits non-zero, and makes nothing', async () => {
    // A PATH with every program of the usual one but `ip`.
    const bin = join(work, 'path-without-ip');
    mkdirSync(bin);
    for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
      for (const name of existsSync(dir) ? readdirSync(dir) : []) {
        if (name !== 'ip' && !existsSync(join(bin, name))) symlinkSync(join(dir, name), join(bin, name));
      }
    }
    const fresh = join(work, 'fresh');
    const project = join(work, 'no-ip');
    mkdirSync(project);
    writeFileSync(join(project, 'compose.yaml'), STACK);
    const r = await run(cli(), ['-p', 'noip', 'up', '-d', '--wait'], {
      cwd: project, env: env({ PATH: bin, TSCOMPOSE_ROOT: join(fresh, 'state'), TSCOMPOSE_RUN: join(fresh, 'run') }),
    });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("tscompose needs `ip` (for containers' network interfaces and bridges), which is not on PATH: install the iproute2 package (apt-get install iproute2 on Debian or Ubuntu)\n");
    expect(existsSync(fresh)).toBe(false);
    expect(await settledLeftovers({ dir: fresh, state: join(fresh, 'state'), run: join(fresh, 'run'), env: {} })).toEqual([]);
  });

  it('says in one sentence that a machine it has no helper for is not supported, and suggests the docker backend', async () => {
    const fake = join(work, 'fake-arch.cjs');
    writeFileSync(fake, "Object.defineProperty(process, 'arch', { value: 'riscv64' });\n");
    const r = await run(process.execPath, ['-r', fake, join(installed, 'bin', 'tscompose'), 'container', 'ls'], { cwd: work, env: rootEnv() });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("tscompose's native engine runs on Linux on x64 and arm64, and this is linux-riscv64: use --backend docker to drive a Docker Engine instead\n");
  });
});
