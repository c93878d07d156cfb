import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startRegistry, type TestRegistry } from '../support/registry.js';
import { Tmux } from '../support/tmux.js';
import { DOCKER, IMAGE, cleanDockerd, dockerdTarget, eventually, startService, type ApiTarget, type Service } from './support.js';

/**
 * The docker CLI (Debian's docker.io, 20.10) against `tscompose system
 * service`, and the same commands against dockerd in the same run: what a
 * user types, with the outputs a user reads checked on both. Where our
 * answer differs from dockerd's, the test says which and why.
 */

let service: Service;
let dockerd: Awaited<ReturnType<typeof dockerdTarget>>;
let registry: TestRegistry;
const scratch = mkdtempSync(join(tmpdir(), 'tsc-api-cli-'));
const tag = randomBytes(3).toString('hex');
const LABEL = `tsc-api-cli=${tag}`;
const prefix = `tscapi${tag}`;
/** Client processes that follow a stream (logs -f, events): killed at the end even when a test failed midway. */
const followers: ChildProcess[] = [];

beforeAll(async () => {
  [service, dockerd, registry] = await Promise.all([startService(), dockerdTarget(), startRegistry()]);
}, 120_000);

afterAll(async () => {
  for (const f of followers) f.kill('SIGKILL');
  const left = service ? await service.stop() : [];
  if (dockerd) {
    await cleanDockerd(dockerd.target, LABEL, prefix);
    await dockerd.target.docker(['rmi', '-f', `${prefix}-built:1`, `${registry?.host}/${prefix}/bb:1`]);
    dockerd.dispose();
  }
  await registry?.stop();
  rmSync(scratch, { recursive: true, force: true });
  expect(left, 'left on the host by the server').toEqual([]);
}, 120_000);

const targets = () => [service.target, dockerd.target];

describe.each(['tscompose system service', 'dockerd'])('docker CLI against %s', (which) => {
  let t: ApiTarget;
  const name = (s: string) => `${prefix}-${which === 'dockerd' ? 'd' : 'n'}-${s}`;
  beforeAll(() => {
    t = targets().find((x) => x.name === which)!;
  });

  it('run --rm: output on both streams, the exit code, and the container gone', async () => {
    const r = await t.docker(['run', '--rm', '--label', LABEL, '--name', name('once'), IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    expect(r.code).toBe(3);
    expect(await t.ok(['ps', '-a', '-q', '--filter', `name=${name('once')}`])).toBe('');
  });

  it('run -d -p 127.0.0.1:P:80 --name, ps -a, inspect, exec, logs -f, cp both ways, stop, rm', async () => {
    const port = await freePort();
    const web = name('web');
    const id = (await t.ok(['run', '-d', '-p', `127.0.0.1:${port}:80`, '--name', web, '--label', LABEL, IMAGE,
      'sh', '-c', 'mkdir -p /www && echo "<h1>$HOSTNAME</h1>" > /www/index.html && echo started && exec httpd -f -v -p 80 -h /www'])).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const page = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      return res.ok ? res.text() : undefined;
    }, 10_000, `port ${port} answering`);
    expect(page).toBe(`<h1>${id.slice(0, 12)}</h1>\n`);

    const ps = await t.ok(['ps', '-a', '--filter', `name=${web}`, '--format', '{{.Names}}|{{.Image}}|{{.Status}}|{{.Ports}}']);
    expect(ps).toMatch(new RegExp(`^${web}\\|${IMAGE.replace(/[/.]/g, '\\$&')}\\|Up .*\\|127\\.0\\.0\\.1:${port}->80/tcp\\n$`));

    const inspect = JSON.parse(await t.ok(['inspect', web]))[0];
    expect(inspect.Id).toBe(id);
    expect(inspect.Name).toBe(`/${web}`);
    expect(inspect.State).toMatchObject({ Status: 'running', Running: true, ExitCode: 0 });
    expect(inspect.Config).toMatchObject({ Image: IMAGE, Labels: { 'tsc-api-cli': tag } });
    expect(inspect.HostConfig).toMatchObject({ NetworkMode: 'default', PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } });
    expect(inspect.NetworkSettings.Ports).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
    expect(inspect.NetworkSettings.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await t.ok(['inspect', '-f', '{{.State.Status}} {{index .Config.Labels "tsc-api-cli"}}', web])).toBe(`running ${tag}\n`);

    const ex = await t.docker(['exec', '-e', 'X=from-exec', web, 'sh', '-c', 'echo $X; echo oops >&2; exit 4']);
    expect([ex.code, ex.stdout, ex.stderr]).toEqual([4, 'from-exec\n', 'oops\n']);
    expect(await t.ok(['exec', '-i', web, 'sh', '-c', 'tr a-z A-Z'], { input: 'piped in\n' })).toBe('PIPED IN\n');

    // logs -f follows until the container stops: a line written to PID 1's stdout later shows up.
    const follow = spawn(DOCKER, ['logs', '-f', web], { env: t.env });
    followers.push(follow);
    let followed = '';
    follow.stdout.on('data', (b: Buffer) => (followed += b.toString()));
    follow.stderr.on('data', (b: Buffer) => (followed += b.toString()));
    await eventually(async () => (followed.includes('started') ? true : undefined), 10_000, 'logs -f showing the first line');
    await t.ok(['exec', web, 'sh', '-c', 'echo follow-me > /proc/1/fd/1']);
    await eventually(async () => (followed.includes('follow-me') ? true : undefined), 10_000, 'logs -f showing a new line');

    // cp: a file in, a directory out.
    const src = join(scratch, `${which}-in.txt`);
    writeFileSync(src, 'copied in\n');
    await t.ok(['cp', src, `${web}:/www/in.txt`]);
    expect(await (await fetch(`http://127.0.0.1:${port}/in.txt`)).text()).toBe('copied in\n');
    const out = join(scratch, `${which}-out`);
    await t.ok(['cp', `${web}:/www`, out]);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toBe(`<h1>${id.slice(0, 12)}</h1>\n`);
    expect(readFileSync(join(out, 'in.txt'), 'utf8')).toBe('copied in\n');

    // stop: the exit status depends on whether httpd handles TERM as PID 1 (143/0), or is killed after the grace time (137).
    expect(await t.ok(['stop', '-t', '2', web])).toBe(`${web}\n`);
    const code = follow.exitCode ?? await new Promise<number | null>((r) => follow.once('exit', r));
    expect(code).toBe(0);
    expect(await t.ok(['ps', '-a', '--filter', `name=${web}`, '--format', '{{.Status}}'])).toMatch(/^Exited \((0|137|143)\) /);
    expect(await t.ok(['rm', web])).toBe(`${web}\n`);
    const gone = await t.docker(['inspect', web]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`No such object: ${web}`);
  });

  it('exec -it under a real terminal (tmux): a tty, its size and its changes, the exit code', async () => {
    const c = name('tty');
    await t.ok(['run', '-d', '--name', c, '--label', LABEL, IMAGE, 'sleep', '300']);
    const dir = mkdtempSync(join(scratch, 'tmux-'));
    const tmux = new Tmux({ dir, env: t.env });
    try {
      tmux.start('ex', `${DOCKER} exec -it ${c} sh`);
      await tmux.waitFor('ex', /# ?$/m);
      tmux.tmux('send-keys', '-t', 'ex', 'echo $((6*7)); tty; stty size', 'Enter');
      await tmux.waitFor('ex', /42\n\/dev\/pts\/\d+\n30 100\n/);
      tmux.tmux('resize-window', '-t', 'ex', '-x', '120', '-y', '40');
      await sleep(300);
      tmux.tmux('send-keys', '-t', 'ex', 'stty size', 'Enter');
      await tmux.waitFor('ex', /^40 120$/m);
      tmux.tmux('send-keys', '-t', 'ex', 'exit 3', 'Enter');
      expect(await tmux.exitCode('ex')).toBe(3);
    } finally {
      tmux.kill();
    }
    await t.ok(['rm', '-f', c]);
  });

  it('images, build of a small Dockerfile, push to and pull from a local registry', async () => {
    expect(await t.ok(['images', '--format', '{{.Repository}}:{{.Tag}}', IMAGE])).toBe(`${IMAGE}\n`);
    const ctx = join(scratch, `${which}-ctx`);
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${IMAGE}\nRUN echo built > /built.txt\nCOPY hello.txt /hello.txt\nCMD ["sh", "-c", "cat /built.txt /hello.txt"]\n`);
    writeFileSync(join(ctx, 'hello.txt'), 'hello from the context\n');
    const built = await t.ok(['build', '-t', `${prefix}-built:1`, ctx]);
    expect(built).toMatch(/Step 1\/4 : FROM /);
    expect(built).toMatch(/Successfully built [0-9a-f]{12}\n/);
    expect(built).toContain(`Successfully tagged ${prefix}-built:1`);
    expect(await t.ok(['run', '--rm', `${prefix}-built:1`])).toBe('built\nhello from the context\n');

    const remote = `${registry.host}/${prefix}/bb:1`;
    await t.ok(['tag', `${prefix}-built:1`, remote]);
    const pushed = await t.ok(['push', remote]);
    expect(pushed).toMatch(/1: digest: sha256:[0-9a-f]{64} size: \d+/);
    await t.ok(['rmi', remote, `${prefix}-built:1`]);
    expect((await t.docker(['image', 'inspect', remote])).code).toBe(1);
    const pulled = await t.ok(['pull', remote]);
    expect(pulled).toMatch(/Status: (Downloaded newer image|Image is up to date) for /);
    expect(pulled.trim().split('\n').pop()).toBe(remote);
    expect(await t.ok(['run', '--rm', remote])).toBe('built\nhello from the context\n');
    await t.ok(['rmi', remote]);
  });

  it('network create/connect, volume create: containers find each other by name, data stays in the volume', async () => {
    const net = `${prefix}-${which === 'dockerd' ? 'd' : 'n'}-net`;
    const vol = `${prefix}-${which === 'dockerd' ? 'd' : 'n'}-vol`;
    expect((await t.ok(['network', 'create', net])).trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(await t.ok(['volume', 'create', vol])).toBe(`${vol}\n`);
    const server = name('srv');
    const client = name('cli');
    await t.ok(['run', '-d', '--name', server, '--network', net, '--label', LABEL, '-v', `${vol}:/data`, IMAGE, 'sh', '-c', 'echo kept > /data/f; exec sleep 300']);
    await t.ok(['run', '-d', '--name', client, '--label', LABEL, IMAGE, 'sleep', '300']);
    expect((await t.docker(['exec', client, 'ping', '-c1', '-W1', server])).code).not.toBe(0);
    await t.ok(['network', 'connect', net, client]);
    expect(await t.ok(['exec', client, 'ping', '-c1', '-W2', server])).toContain('1 packets received');
    const members = (await t.ok(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{end}}', net])).trim().split(' ').sort();
    expect(members).toEqual([client, server].sort());
    expect(await t.ok(['run', '--rm', '-v', `${vol}:/v`, IMAGE, 'cat', '/v/f'])).toBe('kept\n');
    expect(JSON.parse(await t.ok(['volume', 'inspect', vol]))[0]).toMatchObject({ Name: vol, Driver: 'local', Scope: 'local' });
    await t.ok(['rm', '-f', server, client]);
    await t.ok(['network', 'rm', net]);
    await t.ok(['volume', 'rm', vol]);
  });

  it('events: create, start, die and destroy of a container, filtered by name', async () => {
    const c = name('ev');
    const ev = spawn(DOCKER, ['events', '--filter', `container=${c}`, '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'], { env: t.env });
    followers.push(ev);
    let seen = '';
    ev.stdout.on('data', (b: Buffer) => (seen += b.toString()));
    try {
      await sleep(500);
      await t.ok(['run', '--rm', '--name', c, '--label', LABEL, IMAGE, 'true']);
      const lines = await eventually(async () => {
        const l = seen.trim().split('\n');
        return l.includes(`container destroy ${c}`) ? l : undefined;
      }, 10_000, 'the destroy event');
      // dockerd also sends attach; the native engine has no separate attach step (its start relays stdio).
      expect(lines.filter((l) => !l.includes(' attach '))).toEqual([`container create ${c}`, `container start ${c}`, `container die ${c}`, `container destroy ${c}`]);
    } finally {
      ev.kill();
    }
  });
});
