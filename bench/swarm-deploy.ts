/**
 * From the command to every task running, on the 3-node swarm of
 * test/swarm/testbed.sh: `tscompose --backend swarm up` (which waits for the
 * rollout itself) against `docker stack deploy` followed by a wait loop on the
 * manager's tasks, and against `docker stack deploy --detach=false` (the
 * docker CLI's own wait), the same file (web ×3 dnsrr, a client pinned to n1,
 * a store with a named volume pinned to n3), in the same run, interleaved.
 * Each timing is followed by the same wait loop (for ours and --detach=false
 * it finds everything running at its first look), so all three end at the
 * same condition; the stack is removed after each, untimed. The nodes have
 * the image after the warm-up round.
 *
 *   npm run build && npx tsc -p tsconfig.bench.json && node dist-bench/bench/swarm-deploy.js
 *
 * BENCH_RUNS (default 5) sets the recorded rounds, after one warm-up round.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { median, printPair } from './harness.js';
import { runOk } from '../src/util/proc.js';
import { repoRoot } from '../test/support/cache.js';
import { startSwarmBed, type SwarmBed } from '../test/support/swarm.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TSCOMPOSE = join(repoRoot, 'dist/bundle/tscompose.cjs'); // what bin/tscompose runs
const LABEL = 'com.docker.stack.namespace';
const TASKS = 5; // web ×3, client, store

function composeFile(image: string): string {
  return `
version: "3.8"
services:
  web:
    image: ${image}
    command: ["httpd", "-f", "-p", "80", "-h", "/tmp"]
    stop_grace_period: 1s
    deploy: {replicas: 3, endpoint_mode: dnsrr}
  client:
    image: ${image}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    deploy: {endpoint_mode: dnsrr, placement: {constraints: [node.hostname == n1]}}
  store:
    image: ${image}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    volumes: [data:/data]
    deploy: {endpoint_mode: dnsrr, placement: {constraints: [node.hostname == n3]}}
volumes:
  data: {}
`;
}

/** Until the manager reports the stack's TASKS tasks wanted running all running (polled every 50 ms). */
async function allRunning(bed: SwarmBed, stack: string): Promise<void> {
  const filters = JSON.stringify({ label: [`${LABEL}=${stack}`], 'desired-state': ['running'] });
  for (let i = 0; i < 2400; i++) {
    const tasks = await bed.nodes[0]!.docker.listTasks({ filters });
    if (tasks.length === TASKS && tasks.every((t) => t.Status?.State === 'running')) return;
    await sleep(50);
  }
  throw new Error(`stack ${stack} did not reach ${TASKS} running tasks in 120 s`);
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main(): Promise<void> {
  if (!existsSync(TSCOMPOSE)) throw new Error(`${TSCOMPOSE} is missing: run \`npm run build\` first`);
  const work = mkdtempSync(join(tmpdir(), 'tsc-bench-swarm-'));
  const bed = await startSwarmBed();
  try {
    const file = join(work, 'compose.yaml');
    writeFileSync(file, composeFile(bed.busybox));
    const host = ['-H', bed.manager];
    const env = { ...process.env, DOCKER_HOST: bed.manager };
    const tools = {
      ours: {
        deploy: () => runOk(process.execPath, [TSCOMPOSE, '--backend', 'swarm', '-f', file, '-p', 'bo', 'up'], { env }),
        remove: () => runOk(process.execPath, [TSCOMPOSE, '--backend', 'swarm', '-f', file, '-p', 'bo', 'down'], { env }),
        stack: 'bo',
      },
      loop: {
        deploy: () => runOk('docker', [...host, 'stack', 'deploy', '-c', file, 'bl']),
        remove: () => removeDockerStack(bed, 'bl'),
        stack: 'bl',
      },
      wait: {
        deploy: () => runOk('docker', [...host, 'stack', 'deploy', '--detach=false', '-c', file, 'bw']),
        remove: () => removeDockerStack(bed, 'bw'),
        stack: 'bw',
      },
    };
    const times: Record<keyof typeof tools, number[]> = { ours: [], loop: [], wait: [] };
    console.log(`swarm-deploy: command → ${TASKS} tasks running on the 3-node test bed, ${RUNS} recorded rounds after one warm-up`);
    for (let round = 0; round <= RUNS; round++) {
      for (const [name, t] of Object.entries(tools) as Array<[keyof typeof tools, typeof tools.ours]>) {
        const ms = await timed(async () => { await t.deploy(); await allRunning(bed, t.stack); });
        await t.remove();
        if (round > 0) times[name].push(ms);
      }
    }
    const pair = (peer: 'loop' | 'wait', label: string) => printPair({
      subject: 'tscompose --backend swarm up', peer: label,
      subjectMedianMs: median(times.ours), peerMedianMs: median(times[peer]),
      ratio: median(times.ours.map((o, i) => o / times[peer][i]!)),
    });
    pair('loop', 'docker stack deploy + wait loop');
    pair('wait', 'docker stack deploy --detach=false');
  } finally {
    await bed.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** `docker stack rm`, then until the manager has dropped its networks (as our down waits), so the next deploy starts clean. */
async function removeDockerStack(bed: SwarmBed, stack: string): Promise<void> {
  await runOk('docker', ['-H', bed.manager, 'stack', 'rm', stack]);
  const filters = JSON.stringify({ label: [`${LABEL}=${stack}`] });
  for (let i = 0; i < 600 && (await bed.nodes[0]!.docker.listNetworks({ filters })).length; i++) await sleep(100);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
