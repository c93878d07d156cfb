import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, type RunResult } from '../../src/util/proc.js';
import { privateRoots, repoRoot } from '../support/cache.js';
import { ensureDockerDebianBase } from '../support/debian-base.js';
import { withExampleBuildLock } from '../e2e/support/build-lock.js';
import { startSwarmBed, type SwarmBed } from '../support/swarm.js';

/**
 * Issue 15, acceptance 6: examples/wordpress-mysql on the 3-node swarm, as
 * its README says a user deploys it: the images built and pushed by
 * `build --push` (the host's dockerd, whose layer cache holds them when the
 * e2e tests built them first) to the registry the nodes pull from, the
 * database node labelled, then `--backend swarm up` with compose.swarm.yaml
 * over compose.yaml: the database on the labelled node, WordPress on two
 * nodes, its install page answering at each one's address; `down -v` then
 * removes the volumes on all three nodes.
 */

const EXAMPLE = join(repoRoot, 'examples/wordpress-mysql');
const CLI = join(repoRoot, 'bin/tscompose');
const PROJECT = 'wpswarm';
const PORT = 8080;
const MINUTE = 60_000;
let bed: SwarmBed;
/** The CLI's state and run roots, the test's own (privateRoots). */
const roots = mkdtempSync(join(tmpdir(), 'tsc-swarm-wp-'));

/** The CLI on the example with the swarm override; `swarm`: on the bed's manager, else on the host's dockerd. */
function tscompose(args: string[], o: { swarm: boolean; timeoutMs?: number; env?: Record<string, string> }): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...privateRoots(roots), REGISTRY: bed.registry, WORDPRESS_PORT: String(PORT), NO_COLOR: '1', ...o.env };
  if (o.swarm) env.DOCKER_HOST = bed.manager;
  else delete env.DOCKER_HOST;
  return run(CLI, ['--backend', o.swarm ? 'swarm' : 'docker', '-f', 'compose.yaml', '-f', 'compose.swarm.yaml', '-p', PROJECT, ...args],
    { cwd: EXAMPLE, env, timeout: o.timeoutMs ?? 10 * MINUTE, killSignal: 'SIGKILL' });
}

const seconds = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

beforeAll(async () => {
  bed = await startSwarmBed();
  await ensureDockerDebianBase('bookworm');
}, 30 * MINUTE);

afterAll(async () => {
  try {
    if (bed) await tscompose(['down'], { swarm: true }); // after a failure: the bed goes with everything on it
    // The tags build --push made on the host's dockerd (the layers stay: they are the example's).
    for (const image of ['mariadb:10.11', 'wordpress:6.1']) await run('docker', ['image', 'rm', `${bed?.registry}/${image}`]);
  } finally {
    rmSync(roots, { recursive: true, force: true });
    await bed?.stop();
  }
}, 5 * MINUTE);

/** GET on a node's own address (the bed's, made by the test), no redirects followed. */
async function get(addr: string, path: string): Promise<{ status: number; body: string }> {
  if (!bed.nodes.some((n) => n.addr === addr)) throw new Error(`tests only talk to the bed's nodes, not ${addr}`);
  const res = await fetch(`http://${addr}:${PORT}${path}`, { redirect: 'manual', signal: AbortSignal.timeout(30_000) });
  return { status: res.status, body: await res.text() };
}

async function installPage(addr: string, timeoutMs: number): Promise<string> {
  const t0 = Date.now();
  let last = 'no answer yet';
  while (Date.now() - t0 < timeoutMs) {
    try {
      const a = await get(addr, '/wp-admin/install.php');
      if (a.status === 200 && a.body.includes('install.php?step=2')) return a.body;
      last = `HTTP ${a.status}: ${a.body.slice(0, 300)}`;
    } catch (err) {
      last = String((err as Error).cause ?? err);
    }
    await sleep(500);
  }
  throw new Error(`http://${addr}:${PORT}/wp-admin/install.php: no install page within ${timeoutMs / 1000} s; last: ${last}`);
}

it('deploys with the database on its labelled node and WordPress on two nodes, whose install pages answer', async () => {
  const t0 = Date.now();
  const built = await withExampleBuildLock(() => tscompose(['build', '--push'], { swarm: false, timeoutMs: 30 * MINUTE }));
  expect(built.code, built.stderr).toBe(0);
  expect(built.stderr).toMatch(new RegExp(`Image ${bed.registry}/wordpress:6.1 +Pushed sha256:`));
  console.log(`[swarm wordpress] build --push: ${seconds(t0)}`);

  const db = bed.nodes[2]!;
  const label = await run('docker', ['-H', bed.manager, 'node', 'update', '--label-add', 'wordpress.db=true', db.name]);
  expect(label.code, label.stderr).toBe(0);

  const t1 = Date.now();
  const up = await tscompose(['up'], { swarm: true });
  expect(up.code, up.stdout + up.stderr).toBe(0);
  expect(up.stderr).toContain(`Service ${PROJECT}_wordpress: 2/2 tasks running the current spec`);
  expect(up.stderr).not.toContain('WARN');
  console.log(`[swarm wordpress] up (pulls on the nodes, until every task runs): ${seconds(t1)}`);

  const ps = await tscompose(['ps'], { swarm: true });
  const running = ps.stdout.split('\n').slice(1).map((l) => l.split(/\s+/)).filter((c) => c[2] === 'running' && c[3] === 'running');
  const nodesOf = (service: string) => running.filter((c) => c[0]!.startsWith(`${PROJECT}_${service}.`)).map((c) => c[1]);
  expect(nodesOf('db'), ps.stdout).toEqual([db.name]);
  const wordpressNodes = nodesOf('wordpress');
  expect(new Set(wordpressNodes).size, ps.stdout).toBe(2);

  // Each replica on its node's port (host mode); it reaches the database on another node by name.
  const t2 = Date.now();
  for (const name of wordpressNodes) {
    const body = await installPage(bed.nodes.find((n) => n.name === name)!.addr, 3 * MINUTE);
    expect(body).toContain('weblog_title');
  }
  console.log(`[swarm wordpress] install pages answering: ${seconds(t2)} more; ${seconds(t0)} in all`);
  // No replica on the third node: nothing answers there.
  const idle = bed.nodes.find((n) => n.name !== db.name && !wordpressNodes.includes(n.name)) ?? db;
  await expect(get(idle.addr, '/')).rejects.toThrow();

  // down -v: the database's volume on its node and WordPress's on each of its nodes, through the
  // nodes' own dockerds (the manager's, and those TSCOMPOSE_SWARM_NODE_HOSTS names).
  const t3 = Date.now();
  const down = await tscompose(['down', '-v'], { swarm: true, env: { TSCOMPOSE_SWARM_NODE_HOSTS: bed.nodes.slice(1).map((n) => n.host).join(',') } });
  expect(down.code, down.stderr).toBe(0);
  expect(down.stderr).toContain(`Removed volume ${PROJECT}_db_data on node ${db.name}`);
  for (const name of wordpressNodes) expect(down.stderr).toContain(`Removed volume ${PROJECT}_wp_data on node ${name}`);
  expect(down.stderr).not.toContain('WARN');
  const left = await Promise.all(bed.nodes.map(async (n) => (await n.docker.listVolumes()).Volumes?.map((v) => `${n.name}: ${v.Name}`) ?? []));
  expect(left.flat()).toEqual([]);
  console.log(`[swarm wordpress] down -v: ${seconds(t3)}`);
}, 40 * MINUTE);
