import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ready, useNativeEngine, type NativeTest } from './harness.js';
import { BUSYBOX } from './support.js';

/**
 * One route into the native engine: the object verbs (`container`, `image`,
 * `volume`, `network`) go through the Engine as the compose verbs do. Each
 * test is a behaviour that differed while they drove the runtime, the image
 * store and the network directly, and is now the Engine's for both.
 */

async function ok(t: NativeTest, args: string[], file?: string): Promise<string> {
  const r = await t.compose(args, file);
  if (r.code !== 0) throw new Error(`tscompose ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const engineDir = (t: NativeTest, ...p: string[]) => join(t.root().state, 'engine', ...p);

/** The event journal's lines, as `type action`. */
function journal(t: NativeTest): string[] {
  const path = engineDir(t, 'events.log');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => {
    const e = JSON.parse(l) as { type: string; action: string };
    return `${e.type} ${e.action}`;
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

describe('object verbs and compose verbs take one route into the native engine', () => {
  const t = useNativeEngine();

  it('container stop of a restart: always container records the stop, and the supervisor leaves it stopped', async () => {
    await ok(t, ['up', '-d'], `services:\n  web:\n    image: ${BUSYBOX}\n    command: ["sleep", "3600"]\n    init: true\n    restart: always\n    network_mode: none\n`);
    const id = (await ok(t, ['ps', '-q'])).trim();
    expect(await ok(t, ['container', 'stop', '-t', '1', 'netest-web-1'])).toBe('netest-web-1\n');
    const intent = JSON.parse(readFileSync(engineDir(t, id, 'intent.json'), 'utf8')) as { wanted: string; manuallyStopped: boolean };
    expect(intent).toMatchObject({ wanted: 'stopped', manuallyStopped: true });
    // The supervisor has seen this exit (it records the exits it handled) and did not restart the container.
    const finished = (await t.inspect(id)).finishedAt;
    await until('the supervisor handles the exit', () => {
      const s = existsSync(engineDir(t, id, 'supervisor.json')) ? JSON.parse(readFileSync(engineDir(t, id, 'supervisor.json'), 'utf8')) as { handledFinish?: string } : {};
      return s.handledFinish !== undefined && Date.parse(s.handledFinish) >= (finished ?? 0) - 1000;
    });
    expect((await t.inspect(id)).state).toBe('exited');
    await ok(t, ['down']);
  });

  it('container start of a container with a restart policy tells the supervisor: its failures are restarted', async () => {
    await ok(t, ['create'], `services:\n  job:\n    image: ${BUSYBOX}\n    command: ["sh", "-c", "sleep 0.3; exit 3"]\n    restart: on-failure:2\n    network_mode: none\n`);
    const id = (await ok(t, ['ps', '-a', '-q'])).trim();
    await ok(t, ['container', 'start', 'netest-job-1']);
    const d = await t.until(id, (x) => x.restartCount >= 1, 20_000);
    expect(d.restartPolicy).toEqual({ name: 'on-failure', maxRetries: 2 });
    await ok(t, ['down']);
  });

  it('container rm of a compose container takes the Engine\'s records and its config files with it', async () => {
    await ok(t, ['up', '-d'], [
      'services:',
      '  web:',
      `    image: ${BUSYBOX}`,
      '    command: ["sleep", "3600"]',
      '    init: true',
      '    network_mode: none',
      '    configs: [app]',
      'configs:',
      '  app:',
      '    content: "hello"',
      '',
    ].join('\n'));
    const id = (await ok(t, ['ps', '-q'])).trim();
    const record = JSON.parse(readFileSync(engineDir(t, id, 'record.json'), 'utf8')) as { filesToken?: string };
    expect(record.filesToken).toBeDefined();
    expect(existsSync(engineDir(t, 'files', record.filesToken!))).toBe(true);
    await ok(t, ['container', 'rm', '-f', 'netest-web-1']);
    expect(existsSync(engineDir(t, id))).toBe(false);
    expect(existsSync(engineDir(t, 'files', record.filesToken!))).toBe(false);
  });

  it('the object verbs are journaled: containers, volumes, networks and images', async () => {
    await ok(t, ['network', 'create', 'routes-net']);
    await ok(t, ['volume', 'create', 'routes-vol']);
    await ok(t, ['image', 'tag', BUSYBOX, 'routes:1']);
    await ok(t, ['container', 'run', '-d', '--name', 'routes-c', '--network', 'routes-net', '-v', 'routes-vol:/data', BUSYBOX, 'sleep', '3600']);
    await ok(t, ['container', 'stop', '-t', '0', 'routes-c']);
    await ok(t, ['container', 'rm', 'routes-c']);
    await ok(t, ['volume', 'rm', 'routes-vol']);
    await ok(t, ['network', 'rm', 'routes-net']);
    await ok(t, ['image', 'rm', 'routes:1']);
    const seen = journal(t);
    for (const e of ['network create', 'volume create', 'image tag', 'container create', 'container start', 'container stop', 'container destroy', 'volume destroy', 'network destroy', 'image untag']) {
      expect(seen, e).toContain(e);
    }
  });

  it('a detached --rm container on a network is removed when it exits, without the daemon waiting for itself', async () => {
    await ok(t, ['network', 'create', 'rm-net']);
    const id = (await ok(t, ['container', 'run', '-d', '--rm', '--network', 'rm-net', BUSYBOX, 'true'])).trim();
    await until('the container is removed', () => !existsSync(join(t.root().state, 'containers', id)));
    const log = readFileSync(join(t.root().state, 'network-daemon.log'), 'utf8');
    expect(log).not.toMatch(/did not answer/);
    await ok(t, ['network', 'rm', 'rm-net']);
  });

  it('a container gets its image\'s labels, and the engine accepts what the flags take (seccomp=default, --network container:NAME)', async () => {
    const labelled = (await ok(t, ['container', 'commit', '-c', 'LABEL team=core', (await ok(t, ['container', 'create', '--network', 'none', BUSYBOX, 'true'])).trim(), 'labelled:1'])).trim();
    expect(labelled).toMatch(/^sha256:/);
    const c = (await ok(t, ['container', 'create', '--network', 'none', '--security-opt', 'seccomp=default', '-l', 'mine=1', 'labelled:1', 'true'])).trim();
    expect(JSON.parse(await ok(t, ['container', 'inspect', '-f', '{{json .Config.Labels}}', c]))).toMatchObject({ team: 'core', mine: '1' });

    await ok(t, ['container', 'run', '-d', '--name', 'host-ns', BUSYBOX, 'sleep', '3600']);
    const ip = (await ok(t, ['container', 'inspect', '-f', '{{json .NetworkSettings.Networks}}', 'host-ns'])).match(/"IPAddress":"([0-9.]+)"/)![1]!;
    const shared = await ok(t, ['container', 'run', '--rm', '--network', 'container:host-ns', BUSYBOX, 'ip', 'addr', 'show', 'eth0']);
    expect(shared).toContain(`inet ${ip}/`);
    await ok(t, ['container', 'rm', '-f', 'host-ns']);
  });

  it('container ls shows a paused container as paused, and container stop thaws it first', async () => {
    await ok(t, ['up', '-d'], `services:\n  web:\n    image: ${BUSYBOX}\n    command: ["sleep", "3600"]\n    network_mode: none\n`);
    await ok(t, ['pause']);
    expect(await ok(t, ['container', 'ls', '--format', '{{.Names}} {{.Status}}'])).toMatch(/^netest-web-1 Up .* \(Paused\)$/m);
    await ok(t, ['container', 'stop', '-t', '30', 'netest-web-1']);
    expect(await ok(t, ['container', 'ls', '-a', '--format', '{{.Names}} {{.State}}'])).toBe('netest-web-1 exited\n');
    await ok(t, ['down']);
  });

  it('cp and container cp copy with one implementation: -a keeps the owners either way', async () => {
    await ok(t, ['up', '-d'], `services:\n  web:\n    image: ${BUSYBOX}\n    command: ["sh", "-c", "mkdir -p /data/sub; echo x > /data/sub/f; chown -R 1000:50 /data; exec sleep 3600"]\n    init: true\n    network_mode: none\n`);
    await until('the data is there', async () => (await t.compose(['exec', '-T', 'web', 'test', '-e', '/data/sub/f'])).code === 0);
    const out = join(t.root().dir, 'out');
    mkdirSync(out);
    await t.compose(['cp', '-a', 'web:/data', join(out, 'compose')]);
    await ok(t, ['container', 'cp', '-a', 'netest-web-1:/data', join(out, 'object')]);
    for (const d of ['compose', 'object']) {
      expect(statSync(join(out, d, 'sub/f'))).toMatchObject({ uid: 1000, gid: 50 });
      expect(readFileSync(join(out, d, 'sub/f'), 'utf8')).toBe('x\n');
    }
    writeFileSync(join(out, 'in'), 'in\n');
    await ok(t, ['container', 'cp', join(out, 'in'), 'netest-web-1:/data/in']);
    expect((await t.compose(['exec', '-T', 'web', 'cat', '/data/in'])).stdout).toBe('in\n');
    await ok(t, ['down']);
  });

  it('tscompose build goes through the Engine: the tags it makes are journaled', async () => {
    await ready(t);
    const ctx = join(t.root().dir, 'app');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BUSYBOX}\nLABEL built=yes\n`);
    await ok(t, ['build'], `services:\n  app:\n    build: ./app\n    image: routes-built:1\n`);
    const tagged = readFileSync(engineDir(t, 'events.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; action: string; attributes: Record<string, string> });
    expect(tagged.some((e) => e.type === 'image' && e.action === 'tag' && e.attributes.name === 'routes-built:1')).toBe(true);
    await ok(t, ['image', 'rm', 'routes-built:1']);
  });
});
