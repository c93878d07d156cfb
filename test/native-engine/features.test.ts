import { describe, expect, it } from 'vitest';
import { PassThrough, Writable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pack } from 'tar-stream';
import { ConflictError, NotFoundError } from '../../src/util/errors.js';
import type { EngineEvent, LogLine } from '../../src/engine/types.js';
import { ready, useNativeEngine } from './harness.js';
import { BUSYBOX } from './support.js';
import { busyboxRootfsTar } from '../support/images.js';

/** The Engine's container, image and event operations on our engine, one capability per test. */

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({ write: (c: Buffer, _e, cb) => { chunks.push(Buffer.from(c)); cb(); } }),
    text: () => Buffer.concat(chunks).toString(),
  };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('native Engine: containers', () => {
  const t = useNativeEngine();

  it('pause freezes every process (exec refused, stop still works); unpause resumes', async () => {
    const id = await t.container({ cmd: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /tmp/tick; sleep 0.05; done'] });
    const e = t.engine().containers;
    await e.pause(id);
    const paused = await t.inspect(id);
    expect(paused.state).toBe('paused');
    expect(paused.status).toMatch(/\(Paused\)$/);
    const read = async () => {
      const out = sink();
      await e.exec(id, { cmd: ['cat', '/tmp/tick'] }, { stdout: out.stream, stderr: out.stream });
      return out.text();
    };
    await expect(e.exec(id, { cmd: ['true'] }, { stdout: sink().stream, stderr: sink().stream })).rejects.toThrow(/paused/);
    await expect(e.pause(id)).rejects.toBeInstanceOf(ConflictError);
    await e.unpause(id);
    const a = await read();
    await sleep(300);
    expect(await read()).not.toBe(a);
    expect((await t.inspect(id)).state).toBe('running');
    await e.pause(id);
    await e.stop(id, 1);
    expect((await t.inspect(id)).state).toBe('exited');
    await expect(e.unpause(id)).rejects.toBeInstanceOf(ConflictError);
  });

  it('rename: the new name resolves, the old one no longer does', async () => {
    await ready(t);
    const net = `rn${process.pid}`;
    await t.engine().networks.create({ name: net, labels: {}, internal: true });
    const server = await t.container({ name: `old-${process.pid}`, cmd: ['sleep', '3600'], init: true, networkMode: undefined, networks: [{ network: net, aliases: [`old-${process.pid}`] }] });
    const client = await t.container({ cmd: ['sleep', '3600'], init: true, networkMode: undefined, networks: [{ network: net }] });
    const lookup = async (name: string) => {
      const out = sink();
      const r = await t.engine().containers.exec(client, { cmd: ['nslookup', name] }, { stdout: out.stream, stderr: out.stream });
      return r.exitCode;
    };
    expect(await lookup(`old-${process.pid}`)).toBe(0);
    await t.engine().containers.rename(server, `new-${process.pid}`);
    expect((await t.inspect(server)).name).toBe(`new-${process.pid}`);
    expect(await lookup(`new-${process.pid}`)).toBe(0);
    expect(await lookup(`old-${process.pid}`)).not.toBe(0);
    await expect(t.engine().containers.rename(client, `new-${process.pid}`)).rejects.toBeInstanceOf(ConflictError);
  });

  it('exec: user, environment, working dir, stdin and the exit code; detached exec', async () => {
    const id = await t.container({ cmd: ['sleep', '3600'], init: true, env: { BASE: 'b' } });
    const out = sink();
    const err = sink();
    const stdin = new PassThrough();
    stdin.end('in\n');
    const r = await t.engine().containers.exec(id, { cmd: ['sh', '-c', 'cat; id -u; pwd; echo "$BASE $EXTRA"; echo e >&2; exit 6'], user: '1000', workingDir: '/tmp', env: { EXTRA: 'x' } }, { stdin, stdout: out.stream, stderr: err.stream });
    expect(r.exitCode).toBe(6);
    expect(out.text()).toBe('in\n1000\n/tmp\nb x\n');
    expect(err.text()).toBe('e\n');
    await t.engine().containers.execDetached(id, { cmd: ['sh', '-c', 'sleep 0.2; touch /tmp/detached'] });
    for (let i = 0; i < 50; i++) {
      const probe = await t.engine().containers.exec(id, { cmd: ['test', '-f', '/tmp/detached'] }, { stdout: sink().stream, stderr: sink().stream });
      if (probe.exitCode === 0) return;
      await sleep(50);
    }
    throw new Error('the detached exec never ran');
  });

  it('logs: streams, tail, since and until, timestamps, a long line in one piece', async () => {
    const id = await t.container({ cmd: ['sh', '-c', 'echo one; echo two >&2; sleep 1.2; echo three; head -c 100000 /dev/zero | tr "\\0" x; echo'] }, true);
    await t.engine().containers.wait(id);
    const all = await collect(t.engine().containers.logs(id, { timestamps: true }));
    expect(all.map((l) => `${l.stream}:${l.text.slice(0, 5)}`)).toEqual(['stdout:one', 'stderr:two', 'stdout:three', 'stdout:xxxxx']);
    expect(all[3]!.text).toHaveLength(100000);
    expect(all[0]!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const t3 = Date.parse(all[2]!.timestamp!.replace(/(\.\d{3})\d*Z$/, '$1Z')) / 1000;
    expect((await collect(t.engine().containers.logs(id, { since: t3 - 0.5 }))).map((l) => l.text.slice(0, 5))).toEqual(['three', 'xxxxx']);
    expect((await collect(t.engine().containers.logs(id, { until: t3 - 0.5 }))).map((l) => l.text)).toEqual(['one', 'two']);
    expect((await collect(t.engine().containers.logs(id, { tail: 2, stderr: false }))).map((l) => l.text.slice(0, 5))).toEqual(['three', 'xxxxx']);
    expect((await collect(t.engine().containers.logs(id, { stdout: false }))).map((l) => l.text)).toEqual(['two']);
  });

  it('wait: not-running at once, next-exit of a container not yet started, removed', async () => {
    const id = await t.container({ cmd: ['sh', '-c', 'exit 4'] }, false);
    const e = t.engine().containers;
    expect(await e.wait(id, 'not-running')).toEqual({ exitCode: 0 });
    const next = e.wait(id, 'next-exit');
    await e.start(id);
    expect(await next).toEqual({ exitCode: 4 });
    const removed = e.wait(id, 'removed');
    await sleep(100);
    await e.remove(id);
    expect(await removed).toEqual({ exitCode: 4 });
    await expect(e.wait('nope-nope', 'not-running')).rejects.toBeInstanceOf(NotFoundError);
    const ac = new AbortController();
    const live = await t.container({ cmd: ['sleep', '3600'], init: true });
    const pending = e.wait(live, 'not-running', ac.signal);
    ac.abort();
    await expect(pending).rejects.toThrow(/interrupted/);
  });

  it('top lists the container\'s processes; kill sends a signal; restart gives a new PID 1', async () => {
    const id = await t.container({ cmd: ['sh', '-c', 'trap "echo got-usr1" USR1; while :; do sleep 0.1; done'] });
    const top = await t.engine().containers.top(id);
    expect(top.titles).toEqual(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    expect(top.processes.some((p) => p.at(-1)!.startsWith('sh -c trap'))).toBe(true);
    await t.engine().containers.kill(id, 'USR1');
    for (let i = 0; i < 50; i++) {
      const logs = await collect(t.engine().containers.logs(id));
      if (logs.some((l) => l.text === 'got-usr1')) break;
      await sleep(50);
    }
    expect((await collect(t.engine().containers.logs(id))).map((l) => l.text)).toContain('got-usr1');
    const pid = (await t.inspect(id)).pid;
    await t.engine().containers.restart(id, 0);
    const after = await t.inspect(id);
    expect(after.state).toBe('running');
    expect(after.pid).not.toBe(pid);
    await expect(t.engine().containers.kill(await t.container({ cmd: ['true'] }, false))).rejects.toBeInstanceOf(ConflictError);
  });

  it('cp: a tar in (owners kept), a tar out, stat (Docker\'s mode bits), running or not', async () => {
    const id = await t.container({ cmd: ['sleep', '3600'], init: true });
    const p = pack();
    p.entry({ name: 'dir', type: 'directory', mode: 0o750, uid: 1000, gid: 1000 });
    p.entry({ name: 'dir/file.txt', mode: 0o640, uid: 1000, gid: 50 }, 'content\n');
    p.finalize();
    await t.engine().containers.putArchive(id, '/tmp', p as never);
    const out = sink();
    await t.engine().containers.exec(id, { cmd: ['stat', '-c', '%n %a %u:%g', '/tmp/dir', '/tmp/dir/file.txt'] }, { stdout: out.stream, stderr: out.stream });
    expect(out.text()).toBe('/tmp/dir 750 1000:1000\n/tmp/dir/file.txt 640 1000:50\n');
    const dir = (await t.engine().containers.statPath(id, '/tmp/dir'))!;
    expect(dir).toMatchObject({ name: 'dir', mode: (0x80000000 | 0o750) >>> 0 });
    expect(await t.engine().containers.statPath(id, '/tmp/nothing')).toBeUndefined();
    await t.engine().containers.stop(id, 0);
    const { stream, stat } = await t.engine().containers.getArchive(id, '/tmp/dir/file.txt');
    expect(stat).toMatchObject({ name: 'file.txt', size: 8, mode: 0o640 });
    const { extract } = await import('tar-stream');
    const ex = extract();
    const files: Record<string, string> = {};
    ex.on('entry', (h, s, next) => {
      const parts: Buffer[] = [];
      s.on('data', (c: unknown) => parts.push(c as Buffer));
      s.on('end', () => { files[h.name] = Buffer.concat(parts).toString(); next(); });
    });
    await new Promise<void>((res, rej) => { ex.on('finish', res); ex.on('error', rej); stream.pipe(ex); });
    expect(files).toEqual({ 'file.txt': 'content\n' });
  });

  it('privileged gets the host\'s capabilities and devices; a named volume is filled from the image on first use', async () => {
    const id = await t.container({ cmd: ['sleep', '3600'], init: true, privileged: true, mounts: [{ type: 'volume', source: `etc${process.pid}`, target: '/etc' }] });
    const out = sink();
    await t.engine().containers.exec(id, { cmd: ['sh', '-c', 'grep CapEff /proc/self/status; ls /dev | grep -c .; cat /etc/group | head -1'] }, { stdout: out.stream, stderr: out.stream });
    const [capLine, devices, group] = out.text().trim().split('\n');
    const host = /CapBnd:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1];
    expect(capLine).toBe(`CapEff:\t${host}`);
    expect(Number(devices)).toBeGreaterThan(10);
    expect(group).toBe('root:x:0:');
    const vol = (await t.engine().volumes.inspect(`etc${process.pid}`))!;
    expect(readFileSync(join(vol.mountpoint, 'passwd'), 'utf8')).toContain('root:x:0:0');
    await t.engine().containers.remove(id, { force: true });
    await t.engine().volumes.remove(`etc${process.pid}`);
  });

  it('events: create, start, die (with its exit code), kill, stop, destroy, and health, filtered by label', async () => {
    await ready(t);
    const ac = new AbortController();
    const seen: EngineEvent[] = [];
    const following = (async () => {
      for await (const e of t.engine().events({ labels: { evt: 'yes' }, types: ['container'] }, ac.signal)) seen.push(e);
    })();
    await sleep(200);
    const other = await t.container({ cmd: ['true'] });
    const id = await t.container({ cmd: ['sh', '-c', 'sleep 3600'], init: true, labels: { evt: 'yes' }, healthcheck: { test: ['CMD', 'true'], interval: 100 } });
    const name = (await t.until(id, (c) => c.health === 'healthy')).name;
    await t.engine().containers.stop(id, 1);
    await t.engine().containers.remove(id);
    for (let i = 0; i < 100 && !seen.some((e) => e.action === 'destroy'); i++) await sleep(50);
    ac.abort();
    await following;
    const actions = seen.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['create', 'start', 'health_status: healthy', 'kill', 'die', 'stop', 'destroy']));
    expect(seen.every((e) => e.id === id)).toBe(true);
    expect(seen.find((e) => e.action === 'die')!.attributes.exitCode).toBe('143');
    expect(seen.find((e) => e.action === 'start')!.attributes).toMatchObject({ name, image: BUSYBOX, evt: 'yes' });
    expect(seen.some((e) => e.id === other)).toBe(false);
  });

  it('errors: an unknown image, a taken name, a running container removed without force', async () => {
    await ready(t);
    const e = t.engine().containers;
    await expect(e.create({ name: 'x1', image: 'no/such:image', labels: {} })).rejects.toThrow(/No such image: no\/such:image/);
    const id = await t.container({ name: `taken-${process.pid}`, cmd: ['sleep', '3600'], init: true });
    await expect(e.create({ name: `taken-${process.pid}`, image: BUSYBOX, labels: {} })).rejects.toBeInstanceOf(ConflictError);
    await expect(e.remove(id)).rejects.toBeInstanceOf(ConflictError);
    expect(await e.inspect('nope-nope')).toBeUndefined();
    await expect(e.start('nope-nope')).rejects.toBeInstanceOf(NotFoundError);
    // A create that fails after the runtime made the container leaves nothing: a network that does not exist.
    await expect(e.create({ name: 'half', image: BUSYBOX, labels: {}, networks: [{ network: 'no-such-net' }] })).rejects.toThrow(/no-such-net/);
    expect(await e.inspect('half')).toBeUndefined();
  });
});

describe('native Engine: images', () => {
  const t = useNativeEngine();

  it('inspect, list by label and reference, tag, remove; load a docker save archive; build with the native builder', async () => {
    await ready(t);
    const images = t.engine().images;
    const bb = (await images.inspect(BUSYBOX))!;
    expect(bb).toMatchObject({ repoTags: [BUSYBOX], os: 'linux', config: { cmd: ['sh'] } });
    await images.tag(BUSYBOX, 'tsc-test/other:2');
    expect((await images.list({ reference: 'tsc-test/other' })).map((i) => i.id)).toEqual([bb.id]);
    expect((await images.list({ reference: 'tsc-test/*:2' })).map((i) => i.repoTags)).toEqual([[BUSYBOX, 'tsc-test/other:2'].sort()]);
    await images.remove('tsc-test/other:2');
    expect(await images.inspect('tsc-test/other:2')).toBeUndefined();

    const ctx = mkdtempSync(join(tmpdir(), 'tsc-ne-build-'));
    try {
      writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BUSYBOX}\nLABEL kind=built\nRUN echo built > /built\nHEALTHCHECK --interval=1s CMD true\nEXPOSE 8080\nCMD ["cat", "/built"]\n`);
      const id = await images.build({ context: ctx, tags: ['tsc-test/built:1'], network: 'none' });
      const built = (await images.inspect('tsc-test/built:1'))!;
      expect(built.id).toBe(id);
      expect(built.config).toMatchObject({ exposedPorts: ['8080/tcp'], labels: { kind: 'built' }, healthcheck: { test: ['CMD-SHELL', 'true'], interval: 1000 } });
      expect((await images.list({ labels: { kind: 'built' } })).map((i) => i.id)).toEqual([id]);
      const c = await t.container({ image: 'tsc-test/built:1', cmd: ['cat', '/built'] });
      await t.engine().containers.wait(c);
      expect((await collect(t.engine().containers.logs(c))).map((l: LogLine) => l.text)).toEqual(['built']);
      await expect(images.remove('tsc-test/built:1')).rejects.toBeInstanceOf(ConflictError);
      await t.engine().containers.remove(c);
      await images.remove('tsc-test/built:1');
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }

    // docker save of an image made by docker import of the same rootfs: loaded with its tag.
    const { prepareBackend } = await import('../orchestrator/helpers.js');
    await prepareBackend('docker');
    execFileSync('docker', ['import', '--change', 'CMD ["true"]', await busyboxRootfsTar(), `tsc-test/loaded:${process.pid}`], { stdio: 'ignore' });
    try {
      const archive = execFileSync('docker', ['save', `tsc-test/loaded:${process.pid}`], { maxBuffer: 1 << 28 });
      const refs = await images.load(PassThrough.from([archive]) as never);
      expect(refs).toEqual([`tsc-test/loaded:${process.pid}`]);
      expect((await images.inspect(`tsc-test/loaded:${process.pid}`))!.config.cmd).toEqual(['true']);
    } finally {
      execFileSync('docker', ['rmi', `tsc-test/loaded:${process.pid}`], { stdio: 'ignore' });
    }
  });
});
