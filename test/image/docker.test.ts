import { describe, it, expect, beforeAll, afterAll, afterEach, beforeEach } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, existsSync, lstatSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes, createHash } from 'node:crypto';
import { ensureDockerd } from '../support/docker.js';
import { busyboxRootfsTar } from '../support/images.js';
import type { ImageStore } from '../../src/engine/native/image/index.js';
import { cli, makeTestRoot, type TestRoot } from './helpers.js';

/**
 * Round trips with a real Docker Engine (Debian's docker.io): archives that
 * `docker save` writes load here with the same files and config; archives
 * that `tscompose image save` writes are accepted by `docker load` and run.
 * Every docker image a test makes is removed after it.
 */

const RUN = randomBytes(4).toString('hex');
const REPO = `tsc-imgtest-${RUN}`;
const CID = 'd'.repeat(64);
let busybox: string;
let root: TestRoot;
let store: ImageStore;
let work: string;

function docker(args: string[], input?: Buffer): string {
  return execFileSync('docker', args, { encoding: 'utf8', input, maxBuffer: 1 << 28, stdio: ['pipe', 'pipe', 'pipe'] });
}

function dockerInspect(ref: string): { Id: string; Size: number; Config: { Env?: string[]; Cmd?: string[]; Entrypoint?: string[]; WorkingDir?: string; Labels?: Record<string, string> }; RootFS: { Layers: string[] } } {
  return JSON.parse(docker(['image', 'inspect', ref]))[0];
}

function removeDockerImages(): void {
  const ids = docker(['images', '--format', '{{.Repository}}:{{.Tag}}', `${REPO}*`]).split('\n').filter(Boolean);
  const list = spawnSync('docker', ['images', '-q', '--filter', `reference=${REPO}*`, '--filter', `reference=${REPO}*/*`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const ref of new Set([...ids, ...list])) spawnSync('docker', ['rmi', '-f', ref], { stdio: 'ignore' });
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

beforeAll(async () => {
  await ensureDockerd();
  busybox = await busyboxRootfsTar();
});

afterAll(() => removeDockerImages());

beforeEach(async () => {
  root = makeTestRoot('tsc-image-docker-');
  store = await root.store();
  work = mkdtempSync(join(tmpdir(), 'tsc-image-docker-work-'));
});

afterEach(async () => {
  await store.releaseRootfs(CID);
  root.cleanup();
  rmSync(work, { recursive: true, force: true });
  removeDockerImages();
});

function load(archive: string): string {
  const r = cli(root, ['image', 'load', '-i', archive]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('docker save → tscompose image load', () => {
  it('loads a docker-imported busybox with the same id, files and config', async () => {
    const ref = `${REPO}/bb:one`;
    docker(['import', '--change', 'ENV FOO=bar', '--change', 'CMD ["/bin/sh", "-c", "echo hi"]', '--change', 'WORKDIR /tmp', busybox, ref]);
    const archive = join(work, 'bb.tar');
    docker(['save', '-o', archive, ref]);
    expect(load(archive)).toBe(`Loaded image: ${ref}\n`);

    const theirs = dockerInspect(ref);
    const ours = await store.get(ref);
    expect(ours.id).toBe(theirs.Id);
    expect(ours.config.rootfs.diff_ids).toEqual(theirs.RootFS.Layers);
    expect(ours.config.config?.Env).toEqual(theirs.Config.Env);
    expect(ours.config.config?.Cmd).toEqual(['/bin/sh', '-c', 'echo hi']);
    expect(ours.config.config?.WorkingDir).toBe('/tmp');
    expect(ours.size).toBe(theirs.Size);

    await store.prepareRootfs(CID, ref);
    const merged = await store.mountRootfs(CID);
    expect(sha256(readFileSync(join(merged, 'bin/busybox')))).toBe(sha256(readFileSync('/bin/busybox')));
    expect(readlinkSync(join(merged, 'bin/ls'))).toBe('/bin/busybox');
    const inDocker = docker(['run', '--rm', '--network', 'none', ref, '/bin/busybox', 'cat', '/etc/passwd']);
    expect(readFileSync(join(merged, 'etc/passwd'), 'utf8')).toBe(inDocker);

    // Loading the same archive again reads no layer and changes nothing.
    expect(load(archive)).toBe(`Loaded image: ${ref}\n`);
    expect(readdirSync(join(store.root, 'layers'))).toHaveLength(1);

    // Two images sharing their layer in one archive (docker writes the second layer.tar as a symlink).
    const ref2 = `${REPO}/bb:two`;
    docker(['import', '--change', 'ENV TWO=2', busybox, ref2]);
    const both = join(work, 'both.tar');
    docker(['save', '-o', both, ref, ref2]);
    expect(execFileSync('tar', ['-tvf', both], { encoding: 'utf8' })).toMatch(/^l.*layer\.tar -> \.\.\/[0-9a-f]{64}\/layer\.tar$/m);
    const fresh = makeTestRoot('tsc-image-docker-both-');
    try {
      const r = cli(fresh, ['image', 'load', '-i', both]);
      expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([`Loaded image: ${ref}`, `Loaded image: ${ref2}`]);
      const s2 = await fresh.store();
      expect((await s2.get(ref2)).id).toBe(dockerInspect(ref2).Id);
      expect(readdirSync(join(s2.root, 'layers'))).toHaveLength(1);
    } finally {
      fresh.cleanup();
    }
  });

  it('loads a multi-layer image docker built (COPY, a deleted file, an opaque dir) with its whiteouts', async () => {
    const base = `${REPO}/bb:base`;
    docker(['import', busybox, base]);
    const ctx = join(work, 'ctx');
    execFileSync('mkdir', ['-p', ctx]);
    writeFileSync(join(ctx, 'hello.txt'), 'hello from the build context\n');
    writeFileSync(join(ctx, 'Dockerfile'), [
      `FROM ${base}`,
      'COPY hello.txt /hello.txt',
      'RUN mkdir -p /opq/sub && echo old > /opq/old && echo old > /opq/sub/deep',
      'RUN rm /etc/group && rm -rf /opq && mkdir /opq && echo new > /opq/new',
      'ENV GREETING=hi',
      'CMD ["/bin/cat", "/hello.txt"]',
      '',
    ].join('\n'));
    const built = `${REPO}/built:v1`;
    execFileSync('docker', ['build', '--network', 'none', '--force-rm', '-q', '-t', built, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: 'ignore' });
    const archive = join(work, 'built.tar');
    docker(['save', '-o', archive, built]);
    expect(load(archive)).toBe(`Loaded image: ${built}\n`);

    const theirs = dockerInspect(built);
    const ours = await store.get(built);
    expect(ours.id).toBe(theirs.Id);
    expect(ours.chainIds).toHaveLength(4);
    expect(ours.size).toBe(theirs.Size);
    expect(ours.config.config?.Env).toEqual(theirs.Config.Env);
    expect(ours.config.config?.Cmd).toEqual(['/bin/cat', '/hello.txt']);

    // `image inspect` shows what `docker image inspect` shows for the fields both have.
    const [mine] = JSON.parse(cli(root, ['image', 'inspect', built]).stdout);
    const [dockers] = JSON.parse(docker(['image', 'inspect', built]));
    for (const key of ['Id', 'RepoTags', 'Created', 'Config', 'Architecture', 'Os', 'Size', 'RootFS', 'Author', 'DockerVersion', 'Comment']) {
      expect(mine[key], key).toEqual(dockers[key]);
    }

    // `image history` says what `docker history` says.
    const fmt = '{{.CreatedBy}}|{{.Size}}|{{.Comment}}';
    expect(cli(root, ['image', 'history', '--no-trunc', '--format', fmt, built]).stdout).toBe(docker(['history', '--no-trunc', '--format', fmt, built]));

    // The last layer carries real Docker whiteouts: a char 0:0 for /etc/group, an opaque /opq.
    const top = join(store.root, 'layers', ours.chainIds[3]!.slice(7), 'diff');
    const wh = lstatSync(join(top, 'etc/group'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect(execFileSync('getfattr', ['-n', 'trusted.overlay.opaque', '--only-values', join(top, 'opq')], { encoding: 'utf8' })).toBe('y');

    await store.prepareRootfs(CID, built);
    const merged = await store.mountRootfs(CID);
    expect(readFileSync(join(merged, 'hello.txt'), 'utf8')).toBe('hello from the build context\n');
    expect(existsSync(join(merged, 'etc/group'))).toBe(false);
    expect(existsSync(join(merged, 'etc/passwd'))).toBe(true);
    expect(readdirSync(join(merged, 'opq'))).toEqual(['new']);
    const theirList = docker(['run', '--rm', '--network', 'none', built, '/bin/busybox', 'ls', '-A', '/opq']);
    expect(readdirSync(join(merged, 'opq')).join('\n') + '\n').toBe(theirList);

    // And back: our save of the 4-layer image is loaded by docker as the very same image.
    await store.unmountRootfs(CID);
    docker(['rmi', built]);
    const ours2 = join(work, 'ours.tar');
    expect(cli(root, ['image', 'save', '-o', ours2, built]).code).toBe(0);
    expect(docker(['load', '-i', ours2])).toContain(`Loaded image: ${built}`);
    expect(dockerInspect(built).Id).toBe(ours.id);
    expect(docker(['run', '--rm', '--network', 'none', built])).toBe('hello from the build context\n');
  });
});

describe('tscompose image save → docker load', () => {
  it('writes an archive docker loads and runs', async () => {
    const ref = `${REPO}/mine:v2`;
    const imported = cli(root, ['image', 'import', '-c', 'ENV MINE=1', '-c', 'CMD ["/bin/busybox", "true"]', busybox, ref]);
    expect(imported.code).toBe(0);
    const id = imported.stdout.trim();
    const archive = join(work, 'mine.tar');
    const saved = cli(root, ['image', 'save', '-o', archive, ref]);
    expect(saved.stderr).toBe('');
    expect(saved.code).toBe(0);
    // Both forms are in it: the legacy manifest and the OCI layout.
    const names = execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).split('\n');
    expect(names).toEqual(expect.arrayContaining(['manifest.json', 'repositories', 'index.json', 'oci-layout']));

    expect(docker(['load', '-i', archive])).toBe(`Loaded image: ${ref}\n`);
    const theirs = dockerInspect(ref);
    expect(theirs.Id).toBe(id);
    expect(theirs.Config.Env).toEqual(['MINE=1']);
    const run = spawnSync('docker', ['run', '--rm', '--network', 'none', ref, '/bin/busybox', 'true']);
    expect(run.status).toBe(0);
    expect(docker(['run', '--rm', '--network', 'none', ref, '/bin/busybox', 'cat', '/etc/passwd'])).toBe(readFileSync(join(await extractFile(busybox, 'etc/passwd'))).toString());
    // Through a pipe as well: save to stdout → docker load from stdin, and back in through our stdin.
    docker(['rmi', ref]);
    const viaStdout = cli(root, ['image', 'save', ref]);
    expect(viaStdout.code).toBe(0);
    expect(docker(['load'], viaStdout.stdoutBytes)).toBe(`Loaded image: ${ref}\n`);
    expect(cli(root, ['image', 'rm', ref]).code).toBe(0);
    const viaStdin = cli(root, ['image', 'load'], viaStdout.stdoutBytes);
    expect(viaStdin.stdout).toBe(`Loaded image: ${ref}\n`);
    expect((await store.get(ref)).id).toBe(id);
  });
});

/** One file of a tar, extracted to a temp file. */
async function extractFile(tarPath: string, member: string): Promise<string> {
  const out = join(work, `member-${randomBytes(3).toString('hex')}`);
  writeFileSync(out, execFileSync('tar', ['-xOf', tarPath, `./${member}`], { maxBuffer: 1 << 26 }));
  return out;
}
