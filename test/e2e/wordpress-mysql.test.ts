import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../support/cache.js';
import { composeCli, dockerCompose, tscomposeNative, tscomposeOnDocker, type ComposeCli, type ComposeTarget } from './support/compose-target.js';
import { EgressGuard } from './support/egress-guard.js';
import { withExampleBuildLock } from './support/build-lock.js';
import { freePort, installSite, logIn, request, title, waitForAnswer } from './support/wordpress-http.js';

/**
 * The headline scenario (issue 8): examples/wordpress-mysql brought up,
 * installed, taken down and up again with its data, and removed, through a
 * compose CLI, with proof that no container sent a packet out of the
 * project's network and that nothing of the project is left afterwards.
 *
 * It runs once per target: docker-compose 1.29 on dockerd (the reference),
 * tscompose on the same dockerd, and tscompose on its own engine (images
 * built by the native builder, state read back through the native Engine).
 * What a target must support: `config -q`,
 * `build`, `up --no-start`, `up -d` (`--wait` if upWaits), `exec -T`, `ps`,
 * `logs --no-color --tail=N`, `down`, `down -v`, global `-f` and `-p`.
 */
const TARGETS: ComposeTarget[] = [dockerCompose, tscomposeOnDocker, tscomposeNative];

const COMPOSE_FILE = join(repoRoot, 'examples/wordpress-mysql/compose.yaml');
// The database account the compose file gives WordPress.
const DB = { user: 'wordpress', password: 'wordpress', name: 'wordpress' };
const OWNER = { title: 'tscompose end to end', user: 'admin', password: 'e2e correct horse battery staple', email: 'admin@example.com' };
const MINUTE = 60_000;

it('the example names services, never IP addresses', () => {
  const text = readFileSync(COMPOSE_FILE, 'utf8');
  expect(text.match(/\b\d{1,3}(\.\d{1,3}){3}\b/g) ?? []).toEqual([]);
  expect(text).toMatch(/WORDPRESS_DB_HOST: db\b/);
  expect(text).toContain("define('WP_HTTP_BLOCK_EXTERNAL', true);");
});

describe.each(TARGETS)('examples/wordpress-mysql with $name', (target) => {
  const project = `tsce2e${randomBytes(4).toString('hex')}`;
  const inventory = target.inventory;
  const mountedVolumes = new Set<string>();
  let cli: ComposeCli;
  let guard: EgressGuard | undefined;
  let base = '';
  let failedStep: string | undefined;

  /** Runs a step; after a failure, prints what the containers said, and makes later steps fail at once. */
  async function step(name: string, fn: () => Promise<void>): Promise<void> {
    if (failedStep) throw new Error(`not run: the step "${failedStep}" failed`);
    try {
      await fn();
    } catch (err) {
      failedStep = name;
      console.error(`[${target.name}] step "${name}" failed; project ${project}:\n${await diagnostics()}`);
      throw err;
    }
  }

  async function diagnostics(): Promise<string> {
    const parts = [`$ ps\n${(await cli.run(['ps'], MINUTE)).stdout}`];
    for (const c of await inventory.containers(project)) {
      parts.push(`--- ${c.name} (${c.status}${c.health ? `, ${c.health}` : ''}, restarts ${c.restartCount}), last lines:\n${await inventory.logs(c.id, 80)}`);
    }
    if (guard) parts.push(`egress guard ${guard.chain}: ${await guard.dropped()} packet(s) dropped, subnets ${guard.subnets.join(' ')}`);
    return parts.join('\n');
  }

  /** Waits for every container to run and pass its healthcheck (what `up --wait` does); a crash fails at once. */
  async function waitHealthy(timeoutMs: number): Promise<void> {
    const t0 = Date.now();
    for (;;) {
      const cs = await inventory.containers(project);
      const crashed = cs.find((c) => c.restartCount > 0 || ['exited', 'dead'].includes(c.status));
      if (crashed) throw new Error(`${crashed.name} ${crashed.status} (restarts: ${crashed.restartCount}) instead of starting`);
      if (cs.length > 0 && cs.every((c) => c.status === 'running' && (c.health === undefined || c.health === 'healthy'))) return;
      if (Date.now() - t0 > timeoutMs) {
        throw new Error(`not healthy within ${timeoutMs / 1000} s: ${cs.map((c) => `${c.name} ${c.status}/${c.health ?? '-'}`).join(', ')}`);
      }
      await sleep(250);
    }
  }

  /**
   * `up`, in two parts so that the egress guard watches the project's network
   * before any container starts: `up --no-start` makes the networks, volumes
   * and containers; then `up -d` starts them. Returns when `up -d` was called.
   */
  async function up(): Promise<number> {
    await cli.ok(['up', '--no-start']);
    const networks = await inventory.networks(project);
    expect(networks.map((n) => n.name)).toContain(`${project}_app-network`);
    for (const n of networks) for (const s of n.subnets) await guard!.watch(s);
    expect(guard!.subnets.length).toBeGreaterThan(0);
    const started = Date.now();
    await cli.ok(target.upWaits ? ['up', '-d', '--wait'] : ['up', '-d']);
    if (!target.upWaits) await waitHealthy(3 * MINUTE);
    for (const c of await inventory.containers(project)) for (const v of c.volumes) mountedVolumes.add(v);
    return started;
  }

  async function sql(query: string): Promise<string> {
    const out = await cli.ok(['exec', '-T', 'db', 'mariadb', `-u${DB.user}`, `-p${DB.password}`, DB.name, '--batch', '--skip-column-names', '-e', query]);
    return out.trim();
  }

  beforeAll(async () => {
    await target.prepare();
    base = `http://127.0.0.1:${await freePort()}`;
    cli = composeCli(target, COMPOSE_FILE, project, { WORDPRESS_PORT: base.split(':')[2]! });
    guard = await EgressGuard.install(target.firewallHook);
    await cli.ok(['config', '-q'], MINUTE);
    // Docker's layer cache makes this a few seconds after the first run.
    const t0 = Date.now();
    await withExampleBuildLock(() => cli.ok(['build'], 30 * MINUTE));
    console.log(`[${target.name}] build: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 40 * MINUTE);

  afterAll(async () => {
    // Whatever the steps left, even after a failure: the CLI's own clean-up first, then by label.
    let left: string[] = [];
    try {
      if (cli) await cli.run(['down', '-v', '--remove-orphans'], 5 * MINUTE);
      await inventory.removeAll(project);
    } finally {
      await guard?.remove();
      left = (await target.dispose?.()) ?? [];
    }
    expect(left, `left on the host by ${target.name}`).toEqual([]);
  }, 10 * MINUTE);

  it('up: the install page answers, the install completes, and the database then holds wp_options rows', async () => {
    await step('first up and install', async () => {
      const started = await up();
      const page = await waitForAnswer(`${base}/wp-admin/install.php`, (a) => a.status === 200 && a.body.includes('install.php?step=2'), 2 * MINUTE);
      console.log(`[${target.name}] first up -d → install page answering: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(page.body).toContain('weblog_title');

      const done = await installSite(base, OWNER);
      expect(done.status, done.body.slice(0, 500)).toBe(200);
      expect(done.body).toContain('<h1>Success!</h1>');

      expect(Number(await sql('select count(*) from wp_options'))).toBeGreaterThan(50);
      expect(await sql("select option_value from wp_options where option_name = 'blogname'")).toBe(OWNER.title);

      // Pages that make WordPress call out (update checks, news feeds, cron): the egress guard counts any attempt.
      const cookies = await logIn(base, OWNER.user, OWNER.password);
      const dashboard = await request(`${base}/wp-admin/`, { cookies });
      expect(dashboard.status).toBe(200);
      expect(title(dashboard.body)).toContain('Dashboard');
      expect((await request(`${base}/wp-cron.php`)).status).toBe(200);
      expect(await cli.ok(['exec', '-T', 'wordpress', 'printenv', 'WORDPRESS_CONFIG_EXTRA'])).toContain("define('WP_HTTP_BLOCK_EXTERNAL', true);");
    });
  }, 15 * MINUTE);

  it('down then up: the site is already installed (the data stayed in db_data)', async () => {
    await step('down and up again', async () => {
      await cli.ok(['down']);
      await guard!.unwatchAll(); // the network is gone; another project may be given its subnet
      expect(await inventory.containers(project)).toEqual([]);
      expect(await inventory.volumes(project)).toContain(`${project}_db_data`);

      const started = await up();
      await waitForAnswer(`${base}/wp-admin/install.php`, (a) => a.status === 200 && a.body.includes('Already Installed'), 2 * MINUTE);
      console.log(`[${target.name}] second up -d → site answering: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      const home = await request(`${base}/`);
      expect(home.status).toBe(200);
      expect(title(home.body)).toContain(OWNER.title);
      // The keys and salts stayed too (volume wp_data): a new login works and the dashboard accepts it.
      const cookies = await logIn(base, OWNER.user, OWNER.password);
      expect((await request(`${base}/wp-admin/`, { cookies })).status).toBe(200);
    });
  }, 15 * MINUTE);

  it('no packet left the project\'s network, and the guard does see one that tries', async () => {
    await step('egress', async () => {
      expect(await guard!.dropped()).toBe(0);
      // The counter is not blind: one connection attempt to a documentation address (TEST-NET-2, RFC 5737)
      // from inside the network is counted, and dropped before it leaves the machine.
      const subnet = guard!.subnets[0]!;
      expect(await guard!.isDropping(subnet)).toBe(true);
      await cli.run(['exec', '-T', 'db', 'bash', '-c', 'timeout 3 bash -c "exec 3<>/dev/tcp/198.51.100.1/9" || true'], MINUTE);
      expect(await guard!.dropped()).toBeGreaterThan(0);
    });
  }, 5 * MINUTE);

  it('down -v removes the volumes, and nothing of the project is left', async () => {
    await step('down -v', async () => {
      await cli.ok(['down', '-v']);
      await guard!.unwatchAll();
      expect(await inventory.containers(project)).toEqual([]);
      expect(await inventory.networks(project)).toEqual([]);
      expect(await inventory.volumes(project)).toEqual([]);
      // Anonymous volumes carry no project label: every volume the containers had must be gone too.
      expect(mountedVolumes.size).toBeGreaterThanOrEqual(2);
      for (const v of mountedVolumes) expect(await inventory.volumeExists(v), `volume ${v}`).toBe(false);
    });
  }, 5 * MINUTE);
});
