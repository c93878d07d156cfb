import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough, Writable } from 'node:stream';
import { openEngine } from '../../src/engine/index.js';
import { NotConnectedError, type Engine, type LogLine } from '../../src/engine/types.js';
import { NotFoundError, ConflictError } from '../../src/util/errors.js';
import { BACKENDS, BUSYBOX, backendCleanup, backendLeftovers, prepareBackend, releaseBackend, uniqueName } from './helpers.js';

/** Collects what a process writes. */
function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function collect(it: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const l of it) out.push(l);
  return out;
}

describe.each(BACKENDS)('Engine on %s', (backend) => {
  let engine: Engine;
  const tag = uniqueName('engt');
  const label = `io.tscompose.test=${tag}`;
  const labels = { 'io.tscompose.test': tag };

  beforeAll(async () => {
    await prepareBackend(backend);
    engine = await openEngine(backend);
  });

  afterAll(async () => {
    try {
      await backendCleanup(backend, label);
      await engine?.close();
    } finally {
      await releaseBackend(backend);
    }
  });

  it('creates, starts, inspects, lists, logs, execs, renames, stops and removes a container', async () => {
    const net = `${tag}_net`;
    const vol = `${tag}_vol`;
    await engine.networks.create({ name: net, labels });
    await engine.volumes.create({ name: vol, labels });
    const name = `${tag}-c-1`;
    const { id } = await engine.containers.create({
      name,
      image: BUSYBOX,
      labels: { ...labels, role: 'web' },
      cmd: ['sh', '-c', 'echo out-line; echo err-line >&2; cat /run/secrets/token; exec sleep 3600'],
      env: { GREETING: 'hello world' },
      init: true,
      mounts: [{ type: 'volume', source: vol, target: '/data' }, { type: 'tmpfs', target: '/scratch' }],
      files: [{ target: '/run/secrets/token', content: Buffer.from('s3cret\n'), mode: 0o444 }],
      networks: [{ network: net, aliases: ['web', 'www'] }],
      healthcheck: { test: ['CMD-SHELL', 'test -f /tmp/ready'], interval: 200, timeout: 1000, retries: 50 },
      stopTimeout: 2,
    });
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    await engine.containers.start(id);

    const d = (await engine.containers.inspect(name))!;
    expect(d.id).toBe(id);
    expect(d.state).toBe('running');
    expect(d.health).toBe('starting');
    expect(d.env).toContain('GREETING=hello world');
    expect(d.labels.role).toBe('web');
    expect(d.networks[net]!.aliases).toEqual(expect.arrayContaining(['web', 'www']));
    expect(d.networks[net]!.ipv4Address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(d.mounts.find((m) => m.target === '/data')).toMatchObject({ type: 'volume', name: vol });

    const listed = await engine.containers.list({ labels: { 'io.tscompose.test': tag, role: 'web' } });
    expect(listed.map((c) => c.id)).toEqual([id]);

    // exec with exit code, env and stdin
    const out = sink();
    const err = sink();
    const stdin = new PassThrough();
    stdin.end('from-stdin\n');
    const r = await engine.containers.exec(id, { cmd: ['sh', '-c', 'cat; echo "$GREETING $EXTRA"; echo oops >&2; touch /tmp/ready; exit 3'], env: { EXTRA: 'x' } }, { stdin, stdout: out.stream, stderr: err.stream });
    expect(r.exitCode).toBe(3);
    expect(out.text()).toBe('from-stdin\nhello world x\n');
    expect(err.text()).toBe('oops\n');

    // health turns healthy once /tmp/ready exists
    let health = d.health;
    for (let i = 0; i < 100 && health !== 'healthy'; i++) {
      await new Promise((res) => setTimeout(res, 100));
      health = (await engine.containers.inspect(id))!.health;
    }
    expect(health).toBe('healthy');

    const lines = await collect(engine.containers.logs(id, { timestamps: true }));
    expect(lines.map((l) => `${l.stream}:${l.text}`)).toEqual(expect.arrayContaining(['stdout:out-line', 'stderr:err-line', 'stdout:s3cret']));
    expect(lines[0]!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    const tail = await collect(engine.containers.logs(id, { tail: 1 }));
    expect(tail).toHaveLength(1);

    const top = await engine.containers.top(id);
    expect(top.titles).toContain('PID');
    expect(top.processes.some((p) => p.join(' ').includes('sleep 3600'))).toBe(true);

    await engine.containers.rename(id, `${name}-renamed`);
    expect((await engine.containers.inspect(`${name}-renamed`))!.id).toBe(id);
    expect(await engine.containers.inspect(name)).toBeUndefined();

    await engine.containers.stop(id, 5);
    const stopped = (await engine.containers.inspect(id))!;
    expect(stopped.state).toBe('exited');
    await engine.containers.stop(id, 5); // idempotent
    await engine.containers.remove(id, { volumes: true });
    expect(await engine.containers.inspect(id)).toBeUndefined();
    await expect(engine.containers.start(id)).rejects.toBeInstanceOf(NotFoundError);

    await engine.networks.remove(net);
    await engine.volumes.remove(vol);
    expect(await engine.networks.inspect(net)).toBeUndefined();
    expect(await engine.volumes.inspect(vol)).toBeUndefined();
  });

  it('publishes ports on 127.0.0.1 and reports them', async () => {
    const name = `${tag}-http-1`;
    const { id } = await engine.containers.create({
      name,
      image: BUSYBOX,
      labels,
      cmd: ['sh', '-c', 'mkdir -p /www && echo served > /www/index.html && exec httpd -f -p 8080 -h /www'],
      ports: [{ target: 8080, protocol: 'tcp', hostIp: '127.0.0.1' }],
      init: true,
    });
    try {
      await engine.containers.start(id);
      const d = (await engine.containers.inspect(id))!;
      const p = d.ports.find((x) => x.target === 8080)!;
      expect(p.hostIp).toBe('127.0.0.1');
      expect(p.hostPort).toBeGreaterThan(0);
      let body = '';
      for (let i = 0; i < 50 && body === ''; i++) {
        body = await fetch(`http://127.0.0.1:${p.hostPort}/`).then((r) => r.text(), () => '');
        if (!body) await new Promise((res) => setTimeout(res, 100));
      }
      expect(body).toBe('served\n');
    } finally {
      await engine.containers.remove(id, { force: true });
    }
  });

  it('waits for exit codes, copies files in and out, and maps errors', async () => {
    const name = `${tag}-job-1`;
    const { id } = await engine.containers.create({ name, image: BUSYBOX, labels, cmd: ['sh', '-c', 'exit 7'] });
    try {
      await expect(engine.containers.create({ name, image: BUSYBOX, labels, cmd: ['true'] })).rejects.toBeInstanceOf(ConflictError);
      const waited = engine.containers.wait(id, 'next-exit');
      await engine.containers.start(id);
      expect((await waited).exitCode).toBe(7);
      expect((await engine.containers.inspect(id))!.exitCode).toBe(7);

      const { pack } = await import('tar-stream');
      const p = pack();
      p.entry({ name: 'hello.txt', mode: 0o644 }, 'copied\n');
      // An entry whose directories the archive does not name: they are made (0755), as Docker's extraction does.
      p.entry({ name: 'made/below/deep.txt', mode: 0o644 }, 'deep\n');
      p.finalize();
      await engine.containers.putArchive(id, '/tmp', p as unknown as import('node:stream').Readable);
      const stat = await engine.containers.statPath(id, '/tmp/hello.txt');
      expect(stat?.size).toBe(7);
      expect((await engine.containers.statPath(id, '/tmp/made/below/deep.txt'))?.size).toBe(5);
      const made = await engine.containers.statPath(id, '/tmp/made/below');
      expect([(made!.mode & 0x80000000) !== 0, made!.mode & 0o777]).toEqual([true, 0o755]);
      expect(await engine.containers.statPath(id, '/nope')).toBeUndefined();
      const { stream } = await engine.containers.getArchive(id, '/tmp/hello.txt');
      const { extract } = await import('tar-stream');
      const ex = extract();
      const files: Record<string, string> = {};
      ex.on('entry', (h, s, next) => {
        const parts: Buffer[] = [];
        s.on('data', (c) => parts.push(c as Buffer));
        s.on('end', () => {
          files[h.name] = Buffer.concat(parts).toString();
          next();
        });
      });
      await new Promise<void>((res, rej) => {
        ex.on('finish', res);
        ex.on('error', rej);
        stream.pipe(ex);
      });
      expect(files['hello.txt']).toBe('copied\n');
    } finally {
      await engine.containers.remove(id, { force: true });
    }
    await expect(engine.containers.remove(id)).rejects.toBeInstanceOf(NotFoundError);
    // A registry on loopback that is not there: the pull fails with the reference in the message.
    await expect(engine.images.pull('127.0.0.1:1/tsc-test/does-not-exist:nope')).rejects.toThrow(/does-not-exist/);
  });

  it('lists networks and volumes by label, connects and disconnects', async () => {
    const net2 = `${tag}_second`;
    await engine.networks.create({ name: net2, labels: { ...labels, which: 'second' }, internal: true });
    const nets = await engine.networks.list({ labels: { 'io.tscompose.test': tag, which: 'second' } });
    expect(nets.map((n) => n.name)).toEqual([net2]);
    expect(nets[0]!.internal).toBe(true);
    const { id } = await engine.containers.create({ name: `${tag}-n-1`, image: BUSYBOX, labels, cmd: ['sleep', '3600'], init: true, networkMode: 'none' });
    try {
      const c2 = await engine.containers.create({ name: `${tag}-n-2`, image: BUSYBOX, labels, cmd: ['sleep', '3600'], init: true, networks: [{ network: net2 }] });
      await engine.networks.disconnect(net2, c2.id);
      expect(Object.keys((await engine.containers.inspect(c2.id))!.networks)).toEqual([]);
      await engine.networks.connect(net2, c2.id, { aliases: ['again'] });
      expect((await engine.containers.inspect(c2.id))!.networks[net2]!.aliases).toContain('again');
      await engine.containers.remove(c2.id, { force: true });
    } finally {
      await engine.containers.remove(id, { force: true });
    }
    await engine.networks.remove(net2);
    expect(backendLeftovers(backend, label).networks).toEqual([]);
  });

  it('reports engine info and image details', async () => {
    const info = await engine.info();
    expect(info.backend).toBe(backend);
    expect(info.version).toMatch(/\d+\.\d+/);
    const img = (await engine.images.inspect(BUSYBOX))!;
    expect(img.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(img.repoTags).toContain(BUSYBOX);
    expect(await engine.images.inspect('tsc-test/nothing:here')).toBeUndefined();
  });
  it('serves the object verbs: a name of its choosing, Docker\'s JSON, commit and history, save and import, prune, "not connected"', async () => {
    const { id, name } = await engine.containers.create({ image: BUSYBOX, labels, cmd: ['sh', '-c', 'echo kept > /kept'], networkMode: 'none' });
    expect(name).toMatch(/^[a-z]+_[a-z]+\d*$/);
    const raw = (await engine.containers.inspectRaw(id))!;
    expect(raw).toMatchObject({ Id: id, Name: `/${name}`, State: { Status: 'created' } });
    expect(await engine.containers.inspectRaw(`${tag}-nope`)).toBeUndefined();
    await engine.containers.start(id);
    await engine.containers.wait(id);
    const ref = `${tag}-img:1`;
    const imageId = await engine.containers.commit(id, { tag: ref, message: 'by test', changes: ['CMD ["cat", "/kept"]'] });
    expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    try {
      const history = await engine.images.history(ref);
      expect(history[0]).toMatchObject({ id: imageId, comment: 'by test' });
      expect(((await engine.images.inspectRaw(ref)) as { Config: { Cmd: string[] } }).Config.Cmd).toEqual(['cat', '/kept']);

      // save and import: the rootfs of a saved image is not what import takes, so import a tar of a directory instead.
      const saved = sink();
      await engine.images.save([ref], saved.stream);
      expect(saved.text().length).toBeGreaterThan(1000);

      const { pack } = await import('tar-stream');
      const p = pack();
      p.entry({ name: 'hello.txt' }, 'hi\n');
      p.finalize();
      const imported = await engine.images.importRootfs(p as unknown as PassThrough, { tags: [`${tag}-imp:1`], changes: ['LABEL from=import'] });
      expect(((await engine.images.inspect(`${tag}-imp:1`))!).labels).toMatchObject({ from: 'import' });
      expect(imported).toMatch(/^sha256:/);
      const removal = await engine.images.remove(`${tag}-imp:1`);
      expect(removal.untagged).toEqual(expect.arrayContaining([expect.stringContaining(`${tag}-imp:1`)]));
    } finally {
      await engine.containers.remove(id, { force: true });
      await engine.images.remove(ref, { force: true }).catch(() => undefined);
    }

    const net = `${tag}_prune`;
    await engine.networks.create({ name: net, labels });
    expect(((await engine.networks.inspectRaw(net)) as { Name: string }).Name).toBe(net);
    const c = await engine.containers.create({ name: `${tag}-nc`, image: BUSYBOX, labels, cmd: ['sleep', '3600'], networks: [{ network: net }] });
    await expect(engine.networks.disconnect(net, c.id)).resolves.toBeUndefined();
    await expect(engine.networks.disconnect(net, c.id)).rejects.toBeInstanceOf(NotConnectedError);
    await engine.containers.remove(c.id, { force: true });
    expect(await engine.networks.prune({ labels })).toContain(net);

    const vol = `${tag}_prune_vol`;
    await engine.volumes.create({ name: vol, labels });
    expect(((await engine.volumes.inspectRaw(vol)) as { Name: string }).Name).toBe(vol);
    expect((await engine.volumes.prune({ all: true, labels })).removed).toContain(vol);
  });
});
