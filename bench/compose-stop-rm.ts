/**
 * `stop` and then `rm -f` of 30 running services, as a fan-out (independent
 * services) and a chain (each depends on the previous one: stopped in reverse
 * order), busybox `sleep 3600` with `init: true` so that SIGTERM ends each at
 * once and the figure is the orchestrator's, not a grace period: tscompose on
 * its own engine and with --backend docker, against docker-compose 1.29 on
 * dockerd, same run, interleaved. Each round brings every project up
 * (untimed), then times each tool's `stop`, then each tool's `rm -f`.
 *
 *   npx tsc -p tsconfig.bench.json && node dist-bench/bench/compose-stop-rm.js
 *
 * BENCH_RUNS (default 3) sets the recorded rounds per case, after one warm-up.
 * BENCH_BACKENDS picks the tscompose rows ("native,docker", the default).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKENDS, IMAGE, LABEL, composeBench, projectOf, runBench, summary, time, type Tool } from './compose-support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const N = 30;

function composeFile(chain: boolean): string {
  // Version 2.4 syntax: docker-compose 1.29 rejects a top-level name: and reads depends_on lists.
  const lines = ['version: "2.4"', 'services:'];
  for (let i = 1; i <= N; i++) {
    lines.push(`  s${i}:`, `    image: "${IMAGE}"`, '    command: ["sleep", "3600"]', '    init: true', '    networks: [net]');
    if (chain && i > 1) lines.push(`    depends_on: [s${i - 1}]`);
  }
  lines.push('networks:', '  net: {}');
  return lines.join('\n') + '\n';
}

async function benchCase(chain: boolean, dir: string): Promise<void> {
  writeFileSync(join(dir, 'compose.yaml'), composeFile(chain));
  const label = `${N} ${chain ? 'chain' : 'fan-out'} init`;
  const tools: Tool[] = [...BACKENDS, 'compose'];
  const project = (t: Tool) => projectOf(t, `sr${chain ? 'c' : 'f'}`);
  const stop = new Map<Tool, number[]>(tools.map((t) => [t, []]));
  const rm = new Map<Tool, number[]>(tools.map((t) => [t, []]));
  try {
    for (let i = 0; i <= RUNS; i++) {
      for (const t of tools) await time(t, project(t), dir, 'up', '-d');
      const s = new Map<Tool, number>();
      const r = new Map<Tool, number>();
      for (const t of tools) s.set(t, await time(t, project(t), dir, 'stop'));
      for (const t of tools) r.set(t, await time(t, project(t), dir, 'rm', '-f'));
      if (i === 0) continue; // warm-up
      for (const t of tools) {
        stop.get(t)!.push(s.get(t)!);
        rm.get(t)!.push(r.get(t)!);
      }
    }
  } finally {
    for (const t of tools) await time(t, project(t), dir, 'down').catch((err: unknown) => console.error(`${LABEL[t]} down: ${String(err)}`));
  }
  for (const t of BACKENDS) summary(t, `stop    ${label}`, stop.get(t)!, stop.get('compose')!);
  for (const t of BACKENDS) summary(t, `rm -f   ${label}`, rm.get(t)!, rm.get('compose')!);
}

runBench(() =>
  composeBench('compose-stop-rm', `${RUNS} recorded rounds per case`, async (dir) => {
    await benchCase(false, dir);
    await benchCase(true, dir);
  }),
);
