import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openEngine } from '../../src/engine/index.js';
import type { BackendName, ContainerSummary, Engine } from '../../src/engine/types.js';
import { execCapturing } from '../../src/planner/hooks.js';
import { BACKENDS, BUSYBOX } from './helpers.js';
import { useScenarios, type Scenario } from './cli.js';

/**
 * develop.watch, end to end through the CLI, on both backends: `watch`
 * syncs an edited file into the running container (and leaves out what the
 * rule ignores), and an edit of a rebuild path builds the image again and
 * replaces the container; `up --watch` does the same in the foreground, its
 * output showing the restarted and the rebuilt containers. The time from an
 * edit to the change being visible in the container is printed (a figure,
 * not an assertion). The watcher is stopped, and the project removed, however
 * a test ends.
 */
const DOCKERFILE = `FROM ${BUSYBOX}
COPY version.txt /version.txt
COPY app /app
CMD ["sh", "-c", "cat /version.txt /app/hello.txt; exec sleep 600"]
`;

const COMPOSE = (sync: 'sync' | 'sync+restart') => `services:
  web:
    build: .
    init: true
    network_mode: none
    develop:
      watch:
        - path: ./app
          action: ${sync}
          target: /app
          ignore: ["*.tmp"]
        - path: ./version.txt
          action: rebuild
        - path: ./conf
          action: sync+exec
          target: /conf
          initial_sync: true
          exec: { command: ["sh", "-c", "cat /conf/nested/c.txt > /tmp/exec-ran"] }
`;

function project(s: Scenario, sync: 'sync' | 'sync+restart'): void {
  s.write('Dockerfile', DOCKERFILE);
  s.write('.dockerignore', 'app/local-only.txt\n');
  s.write('compose.yaml', COMPOSE(sync));
  s.write('version.txt', 'version-1\n');
  mkdirSync(join(s.dir, 'app'));
  s.write('app/hello.txt', 'hello-1\n');
  s.write('app/gone.txt', 'to be removed\n');
  mkdirSync(join(s.dir, 'conf/nested'), { recursive: true });
  s.write('conf/old.txt', 'older than the image\n');
}

/** Polls until `probe` returns a value (every 20 ms, at most `ms`); that value and the time it took since `from`. */
async function until<T>(what: string, from: number, probe: () => Promise<T | undefined>, ms = 60_000): Promise<{ value: T; ms: number }> {
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return { value, ms: Date.now() - from };
    if (Date.now() - from > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function webContainer(engine: Engine, project: string): Promise<ContainerSummary | undefined> {
  const list = await engine.containers.list({ labels: { 'com.docker.compose.project': project, 'com.docker.compose.service': 'web' } });
  return list.length === 1 && list[0]!.state === 'running' ? list[0] : undefined;
}

async function read(engine: Engine, id: string, path: string): Promise<string> {
  const r = await execCapturing(engine, id, { cmd: ['cat', path] });
  return r.exitCode === 0 ? r.output : `<exit ${r.exitCode}>`;
}

/**
 * The process's output so far, a promise of the first time it contains
 * `text`, and when (Date.now()) the chunk that completed a text arrived.
 */
function output(p: ChildProcess): { text: () => string; seen: (text: string, ms?: number) => Promise<void>; at: (text: string, after?: number) => number | undefined } {
  let all = '';
  const chunks: Array<{ end: number; at: number }> = [];
  const waiters: Array<() => void> = [];
  const on = (b: Buffer) => {
    all += b.toString();
    chunks.push({ end: all.length, at: Date.now() });
    for (const w of waiters.splice(0)) w();
  };
  const at = (text: string, after = 0) => {
    const i = all.indexOf(text, after);
    return i < 0 ? undefined : chunks.find((c) => c.end >= i + text.length)?.at;
  };
  p.stdout!.on('data', on);
  p.stderr!.on('data', on);
  const seen = async (text: string, ms = 60_000) => {
    const end = Date.now() + ms;
    while (!all.includes(text)) {
      if (Date.now() > end || p.exitCode !== null) throw new Error(`never saw "${text}"; output:\n${all}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  return { text: () => all, seen, at };
}

type Output = ReturnType<typeof output>;

/**
 * Runs `body` with the CLI process `args` (`watch` or `up --watch`) and an
 * Engine of the test's own; however the body ends, the process is stopped,
 * the Engine closed and the project taken down with its built image (and the
 * process killed when the test ends, should a wait hang); a failure carries
 * the process's output. Nothing of the project may be left.
 */
async function session(s: Scenario, backend: BackendName, args: string[], body: (engine: Engine, p: ChildProcess, out: Output) => Promise<void>): Promise<void> {
  const engine = await openEngine(backend);
  const p = s.spawn(args);
  onTestFinished(async () => {
    await interrupt(p);
  });
  const out = output(p);
  try {
    await body(engine, p, out);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- ${args[0]}'s output\n${out.text()}`);
  } finally {
    await interrupt(p);
    await engine.close();
    await s.compose(['down', '--rmi', 'local', '-t', '0']);
  }
  expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
}

/** Interrupts the process as Ctrl-C does and waits for its exit (killed if it does not end); its exit code. */
async function interrupt(p: ChildProcess): Promise<number | null> {
  if (p.exitCode !== null || p.signalCode !== null) return p.exitCode;
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  p.kill('SIGINT');
  const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

describe.each(BACKENDS)('develop.watch on %s', (backend: BackendName) => {
  const scenario = useScenarios(backend);

  it('watch syncs an edit into the container, leaves ignored files out, and rebuilds and replaces the container for a rebuild path', async () => {
    const s = scenario();
    project(s, 'sync');
    // Built first, so that the file written next is newer than the image: initial_sync takes only such files.
    await s.ok(['build', '--progress', 'quiet']);
    await new Promise((r) => setTimeout(r, 1100));
    s.write('conf/nested/c.txt', 'conf-1\n');
    await session(s, backend, ['watch', '--prune'], async (engine, watcher, out) => {
      await out.seen('Watch enabled');
      const first = (await until('the web container', Date.now(), () => webContainer(engine, s.name))).value;
      expect(await read(engine, first.id, '/app/hello.txt')).toBe('hello-1');
      // initial_sync: the newer file, its directories made; not the older one.
      await until('the initial sync', Date.now(), async () => ((await read(engine, first.id, '/conf/nested/c.txt')) === 'conf-1' ? true : undefined), 20_000);
      expect(await read(engine, first.id, '/conf/old.txt')).toMatch(/^<exit/);

      // A burst: an ignored file, a new file in a new directory, an edit, a removal.
      const before = out.text().length;
      let t0 = Date.now();
      s.write('app/scratch.tmp', 'ignored');
      mkdirSync(join(s.dir, 'app/sub'));
      s.write('app/sub/new.txt', 'new-1\n');
      s.write('app/hello.txt', 'hello-2\n');
      rmSync(join(s.dir, 'app/gone.txt'));
      const synced = await until('the edit in the container', t0, async () => ((await read(engine, first.id, '/app/hello.txt')) === 'hello-2' ? true : undefined));
      await out.seen('Syncing service "web"');
      const applied = out.at('Syncing service "web"', before)! - t0;
      await until('the removal and the new file', t0, async () => ((await read(engine, first.id, '/app/gone.txt')).startsWith('<exit') && (await read(engine, first.id, '/app/sub/new.txt')) === 'new-1' ? true : undefined), 10_000);
      expect(await read(engine, first.id, '/app/scratch.tmp')).toMatch(/^<exit/);

      // .dockerignore applies to the watch rules as to the build.
      s.write('app/local-only.txt', 'not synced\n');
      s.write('app/hello.txt', 'hello-3\n');
      await until('the second edit', Date.now(), async () => ((await read(engine, first.id, '/app/hello.txt')) === 'hello-3' ? true : undefined));
      expect(await read(engine, first.id, '/app/local-only.txt')).toMatch(/^<exit/);

      // sync+exec: the rule's command runs in the container after the sync.
      s.write('conf/nested/c.txt', 'conf-2\n');
      await until('the exec after the sync', Date.now(), async () => ((await read(engine, first.id, '/tmp/exec-ran')) === 'conf-2' ? true : undefined), 20_000);

      const imageBefore = (await engine.containers.inspect(first.id))!.imageId;
      t0 = Date.now();
      s.write('version.txt', 'version-2\n');
      const rebuilt = await until('the rebuilt container', t0, async () => {
        const c = await webContainer(engine, s.name);
        return c && c.id !== first.id && (await read(engine, c.id, '/version.txt')) === 'version-2' ? c : undefined;
      }, 120_000);
      const imageAfter = (await engine.containers.inspect(rebuilt.value.id))!.imageId;
      expect(imageAfter).not.toBe(imageBefore);
      expect(await engine.containers.inspect(first.id)).toBeUndefined();
      // The synced edit is in the new image too: the build context is the same directory.
      expect(await read(engine, rebuilt.value.id, '/app/hello.txt')).toBe('hello-3');
      await out.seen('successfully built (pruned');
      expect(await engine.images.inspect(imageBefore)).toBeUndefined();

      console.log(`watch on ${backend}: edit → synced (the watcher's line) ${applied} ms, visible in the container ${synced.ms} ms; rebuild path edit → new container ${rebuilt.ms} ms`);
      expect(out.text()).not.toContain('develop');
      expect(await interrupt(watcher)).toBe(0);
    });
  }, 240_000);

  // The following of output is the compose layer's, the same on both backends: run where it is cheap.
  if (backend === 'native') it('up --watch follows the output while it restarts on a sync and follows the rebuilt container', async () => {
    const s = scenario();
    project(s, 'sync+restart');
    await session(s, backend, ['up', '--watch'], async (engine, up, out) => {
      await out.seen('Watch enabled');
      await out.seen('web-1  | hello-1');
      let t0 = Date.now();
      s.write('app/hello.txt', 'hello-2\n');
      await out.seen('web-1  | hello-2');
      const restarted = Date.now() - t0;
      t0 = Date.now();
      s.write('version.txt', 'version-2\n');
      await out.seen('web-1  | version-2');
      const rebuilt = Date.now() - t0;
      console.log(`up --watch on ${backend}: edit → the container's output ${restarted} ms (sync+restart), ${rebuilt} ms (rebuild)`);
      expect(await interrupt(up)).toBe(130);
      expect(await webContainer(engine, s.name)).toBeUndefined();
    });
  }, 240_000);
});
