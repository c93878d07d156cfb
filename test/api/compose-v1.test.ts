import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type RunResult } from '../../src/util/proc.js';
import { repoRoot } from '../support/cache.js';
import { freePort } from '../support/registry.js';
import { ensureDockerDebianBase } from '../support/debian-base.js';
import { withExampleBuildLock } from '../e2e/support/build-lock.js';
import { waitForAnswer } from '../e2e/support/wordpress-http.js';
import { DOCKER, IMAGE, cleanDockerd, dockerdTarget, eventually, startService, type ApiTarget, type Service } from './support.js';

/**
 * docker-compose 1.29 (Debian's; Python, docker-py: it speaks the Engine
 * API itself) pointed at `tscompose system service` with DOCKER_HOST, and
 * at dockerd in the same run: `up -d`, `ps`, `logs`, `exec`, `down -v` of a
 * three-service stack (a healthcheck another service waits for, a published
 * port, a named volume shared by two services). Then examples/wordpress-
 * mysql through our socket, until WordPress's install page answers; its
 * reference run (docker-compose 1.29 on dockerd) is test/e2e/wordpress-
 * mysql.test.ts, not repeated here.
 */

const MINUTE = 60_000;
let service: Service;
let dockerd: Awaited<ReturnType<typeof dockerdTarget>>;
const scratch = mkdtempSync(join(tmpdir(), 'tsc-api-compose-'));
const tag = randomBytes(3).toString('hex');

beforeAll(async () => {
  [service, dockerd] = await Promise.all([startService(), dockerdTarget()]);
}, 120_000);

afterAll(async () => {
  const left = service ? await service.stop() : [];
  if (dockerd) {
    await cleanDockerd(dockerd.target, `com.docker.compose.project=tscapi${tag}d`, `tscapi${tag}d_`);
    dockerd.dispose();
  }
  rmSync(scratch, { recursive: true, force: true });
  expect(left, 'left on the host by the server').toEqual([]);
}, 5 * MINUTE);

function compose(t: ApiTarget, file: string, project: string, env: Record<string, string> = {}) {
  const call = (args: string[], timeout = 5 * MINUTE): Promise<RunResult> =>
    run('docker-compose', ['-f', file, '-p', project, ...args], { env: { ...t.env, ...env }, timeout, killSignal: 'SIGKILL' });
  return {
    run: call,
    async ok(args: string[], timeout?: number): Promise<string> {
      const r = await call(args, timeout);
      if (r.code !== 0) throw new Error(`[${t.name}] docker-compose ${args.join(' ')} exited ${r.code}\n--- stderr\n${r.stderr}\n--- stdout\n${r.stdout}`);
      return r.stdout + r.stderr;
    },
  };
}

const STACK = (port: number) => `version: "3.8"
services:
  db:
    image: ${IMAGE}
    # The three PID 1s (nc, httpd, sleep) ignore TERM: dockerd would wait 10 s for each before it kills it.
    stop_grace_period: 1s
    command: ["sh", "-c", "echo ready > /data/state && echo db listening && exec nc -ll -p 5000 -e cat"]
    volumes:
      - data:/data
    healthcheck:
      test: ["CMD", "test", "-f", "/data/state"]
      interval: 1s
      timeout: 2s
      retries: 30
  web:
    image: ${IMAGE}
    stop_grace_period: 1s
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && echo web serving && exec httpd -f -p 80 -h /www"]
    ports:
      - "127.0.0.1:${port}:80"
    depends_on:
      db:
        condition: service_healthy
  worker:
    image: ${IMAGE}
    stop_grace_period: 1s
    command: ["sh", "-c", "echo worker started; exec sleep 3600"]
    volumes:
      - data:/shared:ro
    depends_on:
      - db
volumes:
  data:
`;

/** One stack on each target, and WordPress on ours, side by side: most of their time is spent waiting (healthchecks, MariaDB's first start). */
describe.concurrent('docker-compose 1.29', () => {
  for (const which of ['tscompose system service', 'dockerd']) {
    it(`against ${which}: a three-service stack: up -d (waits for the healthcheck), ps, logs, exec, down -v`, async () => {
      const t = which === 'dockerd' ? dockerd.target : service.target;
      const project = `tscapi${tag}${which === 'dockerd' ? 'd' : 'n'}`;
      const port = await freePort();
      const file = join(scratch, `${project}.yml`);
      writeFileSync(file, STACK(port));
      const c = compose(t, file, project);
      try {
        const up = await c.ok(['up', '-d'], 3 * MINUTE);
        for (const s of ['db', 'web', 'worker']) expect(up).toMatch(new RegExp(`Creating ${project}_${s}_1 +\\.\\.\\. done`));
        // web was created only once db was healthy: it answers on its port.
        expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello-from-web\n');

        const ps = await c.ok(['ps']);
        expect(ps).toMatch(new RegExp(`${project}_db_1 .* Up \\(healthy\\)`));
        expect(ps).toMatch(new RegExp(`${project}_web_1 .* Up .*127\\.0\\.0\\.1:${port}->80/tcp`));
        expect(ps).toMatch(new RegExp(`${project}_worker_1 .* Up`));
        expect((await c.ok(['ps', '-q'])).trim().split('\n')).toHaveLength(3);

        const logs = await eventually(async () => {
          const l = await c.ok(['logs', '--no-color']);
          return ['db listening', 'web serving', 'worker started'].every((x) => l.includes(x)) ? l : undefined;
        }, 10_000, 'each service\'s first line in logs');
        expect(logs).toMatch(new RegExp(`db_1 +\\| db listening`));

        // exec: the volume db wrote is the one worker reads; web finds db by its service name.
        expect(await c.ok(['exec', '-T', 'worker', 'cat', '/shared/state'])).toBe('ready\n');
        expect(await c.ok(['exec', '-T', 'web', 'sh', '-c', 'echo over-the-network | nc -w 2 db 5000'])).toBe('over-the-network\n');
        const failed = await c.run(['exec', '-T', 'worker', 'sh', '-c', 'exit 7']);
        expect(failed.code).toBe(7);

        const down = await c.ok(['down', '-v'], 3 * MINUTE);
        expect(down).toContain(`Removing network ${project}_default`);
        expect(down).toContain(`Removing volume ${project}_data`);
        expect(await t.ok(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`])).toBe('');
        expect(await t.ok(['network', 'ls', '-q', '--filter', `name=${project}_`])).toBe('');
        expect(await t.ok(['volume', 'ls', '-q', '--filter', `name=${project}_`])).toBe('');
      } finally {
        await c.run(['down', '-v', '--remove-orphans']);
      }
    }, 5 * MINUTE);
  }

/**
 * The example's images, for our server's store: the ones the README's main
 * job built on the native engine (in the default state root) when they are
 * there, else dockerd's (which test/e2e builds from the same Dockerfiles,
 * with Docker's layer cache); either way `docker load` through our socket.
 */
async function exampleImages(): Promise<{ from: string; save: string[]; env: NodeJS.ProcessEnv }> {
  const images = ['mariadb:10.11', 'wordpress:6.1'];
  const nativeEnv = { ...process.env, TSCOMPOSE_ROOT: '/var/lib/tscompose', TSCOMPOSE_RUN: '/run/tscompose' };
  const cli = join(repoRoot, 'bin/tscompose');
  const have = await run(cli, ['image', 'inspect', ...images], { env: nativeEnv });
  if (have.code === 0) return { from: 'the native engine\'s default root', save: [cli, 'image', 'save', ...images], env: nativeEnv };
  await ensureDockerDebianBase('bookworm');
  const example = join(repoRoot, 'examples/wordpress-mysql');
  await withExampleBuildLock(async () => {
    for (const [image, dir] of [['mariadb:10.11', 'db'], ['wordpress:6.1', 'wordpress']] as const) {
      const r = await run(DOCKER, ['build', '--network', 'host', '-q', '-t', image, join(example, dir)], { timeout: 30 * MINUTE });
      if (r.code !== 0) throw new Error(`docker build ${image} failed:\n${r.stderr}`);
    }
  });
  return { from: 'dockerd', save: [DOCKER, 'save', ...images], env: { ...process.env, DOCKER_HOST: dockerd.target.host } };
}

/** `<save> | docker load` into our server, streamed. */
async function loadInto(t: ApiTarget, src: Awaited<ReturnType<typeof exampleImages>>): Promise<string> {
  const save = spawn(src.save[0]!, src.save.slice(1), { env: src.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const load = spawn(DOCKER, ['load'], { env: t.env, stdio: ['pipe', 'pipe', 'pipe'] });
  save.stdout.pipe(load.stdin);
  const out: string[] = [];
  for (const s of [save.stderr, load.stdout, load.stderr]) s.on('data', (b: Buffer) => out.push(b.toString()));
  const codes = await Promise.all([save, load].map((p) => new Promise<number | null>((r) => p.once('close', r))));
  if (codes.some((x) => x !== 0)) throw new Error(`loading the example's images from ${src.from} failed (${codes.join(', ')}):\n${out.join('')}`);
  return out.join('');
}

  it('against tscompose system service: examples/wordpress-mysql: up -d, the install page answers, ps, logs, exec in db, down -v', async () => {
    const t = service.target;
    const t0 = Date.now();
    const src = await exampleImages();
    const loaded = await loadInto(t, src);
    console.log(`the example's images from ${src.from}, loaded through the API: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(loaded).toContain('Loaded image: mariadb:10.11');
    expect(loaded).toContain('Loaded image: wordpress:6.1');

    const project = `tscapiwp${tag}`;
    const port = await freePort();
    const c = compose(t, join(repoRoot, 'examples/wordpress-mysql/compose.yaml'), project, { WORDPRESS_PORT: String(port) });
    try {
      // The images are there: docker-compose does not build (no `build` request reaches the server).
      const up = await c.ok(['up', '-d'], 5 * MINUTE);
      expect(up).not.toMatch(/Building /);
      console.log(`up -d: ${((Date.now() - t0) / 1000).toFixed(1)} s after the start`);
      const page = await waitForAnswer(`http://127.0.0.1:${port}/wp-admin/install.php`, (a) => a.status === 200 && a.body.includes('install.php?step=2'), 3 * MINUTE);
      expect(page.body).toContain('weblog_title');
      console.log(`install page answering: ${((Date.now() - t0) / 1000).toFixed(1)} s after the start`);

      const ps = await c.ok(['ps']);
      expect(ps).toMatch(new RegExp(`${project}_db_1 .* Up \\(healthy\\)`));
      expect(ps).toMatch(new RegExp(`${project}_wordpress_1 .* Up .*0\\.0\\.0\\.0:${port}->80/tcp`));
      expect(await c.ok(['logs', '--no-color', '--tail', '50', 'wordpress'])).toMatch(/GET \/wp-admin\/install\.php HTTP\/1\.1" 200/);
      expect((await c.ok(['exec', '-T', 'db', 'mariadb', '-uwordpress', '-pwordpress', 'wordpress', '--batch', '--skip-column-names', '-e', 'select 6*7'])).trim()).toBe('42');

      const down = await c.ok(['down', '-v'], 3 * MINUTE);
      expect(down).toContain(`Removing volume ${project}_db_data`);
      expect(down).toContain(`Removing volume ${project}_wp_data`);
      expect(await t.ok(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`])).toBe('');
    } finally {
      await c.run(['down', '-v', '--remove-orphans']);
    }
  }, 12 * MINUTE);
});
