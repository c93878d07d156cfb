import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runRoot, stateRoot } from '../../../src/util/paths.js';
import { rootTag } from '../../../src/network/names.js';
import { mountsUnder, taggedLinkNames } from '../../network/leaks.js';
import { IMAGE, daemonsOf, monitorsOf, type Check, type Ctx } from './context.js';

/**
 * A compose stack on the engine: three services that find each other by
 * name, one publishing a port, a healthcheck that holds back a dependant, a
 * service that fails and is restarted; then `down`, after which nothing of
 * the project is left in the kernel. The checks share one stack, brought up
 * by the first; a later check whose stack did not come up says so.
 */

const PROJECT = 'vmsuite';

function composeFile(port: number): string {
  return `name: ${PROJECT}
services:
  web:
    image: ${IMAGE}
    # Serves at once, but is ready (and healthy) only two seconds later.
    command: ["sh", "-c", "mkdir -p /www && echo web-ok > /www/index.html && httpd -p 80 -h /www && sleep 2 && echo ready > /www/ready.txt && exec sleep 100000"]
    healthcheck:
      test: ["CMD", "test", "-f", "/www/ready.txt"]
      interval: 1s
      timeout: 10s
      retries: 60
      start_period: 120s
      start_interval: 500ms
    ports: ["127.0.0.1:${port}:80"]
  api:
    image: ${IMAGE}
    # What web served when api started: "ready" only if api waited for web to be healthy.
    command: ["sh", "-c", "wget -qO /tmp/at-start http://web/ready.txt || echo not-ready > /tmp/at-start; mkdir -p /srv && echo api-ok > /srv/index.html && exec httpd -f -p 8080 -h /srv"]
    depends_on:
      web:
        condition: service_healthy
  client:
    image: ${IMAGE}
    command: ["sleep", "100000"]
    depends_on: [api]
  flaky:
    image: ${IMAGE}
    command: ["sh", "-c", "echo flaky-run; exit 3"]
    restart: on-failure:2
`;
}

interface Stack {
  dir: string;
  file: string;
  up: boolean;
  ids: string[];
}

let stack: Stack | undefined;

function compose(ctx: Ctx, args: string[], opts: { allowFail?: boolean } = {}) {
  if (!stack) throw new Error('no compose stack: the first compose check did not run');
  return ctx.cli(['-f', stack.file, ...args], { cwd: stack.dir, ...opts });
}

function requireUp(): void {
  if (!stack?.up) throw new Error('the compose stack did not come up (see the first compose check)');
}

function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${path}: HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', reject);
  });
}

export const composeChecks: Check[] = [
  {
    name: 'compose: three services find each other by name (DNS)',
    async run(ctx) {
      const dir = mkdtempSync(join(tmpdir(), 'tsc-vmsuite-'));
      stack = { dir, file: join(dir, 'compose.yaml'), up: false, ids: [] };
      writeFileSync(stack.file, composeFile(ctx.config.port));
      await compose(ctx, ['up', '-d']);
      stack.up = true;
      stack.ids = (await compose(ctx, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      for (const id of stack.ids) ctx.containers.add(id);
      assert.equal(stack.ids.length, 4, 'web, api, client, flaky');
      const out = (await compose(ctx, ['exec', '-T', 'client', 'sh', '-c',
        'nslookup web && nslookup api && wget -qO- http://web/ && wget -qO- http://api:8080/'])).stdout;
      assert.match(out, /Name:\s+web(\.\S*)?\nAddress( 1)?:\s+\d+\.\d+\.\d+\.\d+/, 'web resolves');
      assert.match(out, /Name:\s+api(\.\S*)?\nAddress( 1)?:\s+\d+\.\d+\.\d+\.\d+/, 'api resolves');
      assert.match(out, /^web-ok$/m);
      assert.match(out, /^api-ok$/m);
    },
  },
  {
    name: 'compose: a published port answers on the loopback',
    async run(ctx) {
      requireUp();
      const port = ctx.config.port;
      assert.equal((await compose(ctx, ['port', 'web', '80'])).stdout.trim(), `127.0.0.1:${port}`);
      assert.equal(await httpGet(port, '/'), 'web-ok\n');
      ctx.note(`GET http://127.0.0.1:${port}/ -> web-ok`);
    },
  },
  {
    name: 'compose: the network daemon killed with -9: the port answers meanwhile (DNAT), the daemon is back by itself',
    async run(ctx) {
      requireUp();
      const pidFile = join(runRoot(), 'daemon.pid');
      const daemon = Number(readFileSync(pidFile, 'utf8').split(' ')[0]);
      process.kill(daemon, 'SIGKILL');
      await ctx.waitFor('the daemon to die', () => (existsSync(`/proc/${daemon}`) ? undefined : true), 10_000);
      assert.equal(await httpGet(ctx.config.port, '/'), 'web-ok\n', 'the port, forwarded by the kernel');
      const back = await ctx.waitFor('its keeper to start it again', () => {
        const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split(' ')[0]) : 0;
        return pid && pid !== daemon && existsSync(`/proc/${pid}`) ? pid : undefined;
      }, 30_000);
      const out = (await compose(ctx, ['exec', '-T', 'client', 'nslookup', 'web'])).stdout;
      assert.match(out, /Name:\s+web(\.\S*)?\nAddress( 1)?:\s+\d+\.\d+\.\d+\.\d+/, 'web resolves again');
      ctx.note(`daemon ${daemon} killed; ${back} serves; the port answered in between`);
    },
  },
  {
    name: 'compose: a healthcheck gates depends_on',
    async run(ctx) {
      requireUp();
      assert.equal((await compose(ctx, ['exec', '-T', 'api', 'cat', '/tmp/at-start'])).stdout, 'ready\n', 'api started after web was healthy');
      const ps = (await compose(ctx, ['ps', 'web', '--format', '{{.Status}}'])).stdout;
      assert.match(ps, /\(healthy\)/);
    },
  },
  {
    name: 'compose: restart on-failure restarts',
    async run(ctx) {
      requireUp();
      const runs = async () => (await compose(ctx, ['logs', '--no-log-prefix', 'flaky'])).stdout.split('\n').filter((l) => l === 'flaky-run').length;
      // on-failure:2 is the first run and two restarts (100 ms, then 200 ms of backoff), then no more.
      await ctx.waitFor('flaky to run three times', async () => ((await runs()) >= 3 ? true : undefined), 90_000);
      await sleep(2000);
      assert.equal(await runs(), 3, 'the first run and two restarts, no fourth');
      assert.match((await compose(ctx, ['ps', '-a', 'flaky', '--format', '{{.Status}}'])).stdout, /^Exited \(3\) /);
    },
  },
  {
    name: 'compose: down leaves no cgroup, mount, link or process',
    async run(ctx) {
      if (!stack) throw new Error('no compose stack: the first compose check did not run');
      const ids = stack.ids.length ? stack.ids : (await compose(ctx, ['ps', '-aq'], { allowFail: true })).stdout.split('\n').filter(Boolean);
      try {
        await compose(ctx, ['down']);
        assert.deepEqual(ids.flatMap((id) => ctx.cgroups.dirsOf(id)), [], 'cgroups of the project');
        // In a VM nothing else runs: the engine's whole cgroup subtree must be gone.
        if (ctx.config.target === 'vm') {
          const subtree = ctx.cgroups.version === 2 ? join(ctx.cgroups.v2!, 'tscompose') : undefined;
          if (subtree) assert.equal(existsSync(subtree), false, `${subtree} is left`);
        }
        assert.deepEqual(mountsUnder(stateRoot()).filter((m) => m !== stateRoot()), [], 'mounts under the state root');
        assert.deepEqual(taggedLinkNames(rootTag()), [], 'links of ours');
        assert.deepEqual(monitorsOf(ids), [], 'container monitors');
        assert.doesNotMatch((await ctx.cli(['network', 'ls', '--format', 'json'])).stdout, new RegExp(`"${PROJECT}_default"`), 'the project network');
        // The daemon (DNS, ports, health, restarts) goes when nothing needs it.
        await ctx.waitFor('the network daemon to exit', () => (daemonsOf(runRoot()).length === 0 ? true : undefined), 30_000);
      } finally {
        rmSync(stack.dir, { recursive: true, force: true });
        stack = undefined;
      }
    },
  },
];
