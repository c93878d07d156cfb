/**
 * `up -d`, `down` and a no-op `up` of 1, 10 and 30 services, as a fan-out
 * (independent services) and a chain (each depends on the previous one),
 * busybox `sleep 3600` with `init: true` (signals handled) and without (PID 1
 * ignores SIGTERM: every stop waits out the grace period): tscompose on its
 * own engine (--backend native, a state root of the bench's own) and
 * tscompose --backend docker, each against docker-compose 1.29 on dockerd,
 * in the same run, interleaved. Prints medians and the median of per-pair
 * ratios.
 *
 *   npx tsc -p tsconfig.bench.json && node dist-bench/bench/compose-up.js
 *
 * BENCH_CASES picks cases by label substring, comma-separated (e.g. "30 chain,no-op").
 * BENCH_RUNS (default 3) sets the recorded pairs per case, after one warm-up.
 * BENCH_BACKENDS picks the tscompose rows ("native,docker", the default).
 * BENCH_TRACE=1 adds, per case, where the time of tscompose's `up -d` and `down`
 * (or no-op `up -d`) goes, from one more untimed run each (bench/trace.ts).
 * The chain without init is left out: its `down` is N × 10 s for both tools
 * (a stop per link, each waiting the full grace period), which measures the
 * grace period, not the orchestrator.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKENDS, IMAGE, TRACING, composeBench, projectOf, runBench, summary, time, trace, type Tool } from './compose-support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Case {
  n: number;
  shape: 'fan-out' | 'chain';
  init: boolean;
}

function composeFile(c: Case): string {
  // Version 2.4 syntax: docker-compose 1.29 rejects a top-level name: and reads depends_on lists.
  const lines = ['version: "2.4"', 'services:'];
  for (let i = 1; i <= c.n; i++) {
    lines.push(`  s${i}:`, `    image: "${IMAGE}"`, '    command: ["sleep", "3600"]', `    init: ${c.init}`, '    networks: [net]');
    if (c.shape === 'chain' && i > 1) lines.push(`    depends_on: [s${i - 1}]`);
  }
  lines.push('networks:', '  net: {}');
  return lines.join('\n') + '\n';
}

/** Each round: every tool's `up -d`, then every tool's `down` (interleaved, so drift hits all alike). */
async function benchCase(c: Case, dir: string): Promise<void> {
  writeFileSync(join(dir, 'compose.yaml'), composeFile(c));
  const label = `${c.n} ${c.shape}${c.init ? ' init' : ''}`;
  const key = `${c.n}${c.shape[0]}${c.init ? 'i' : 'n'}`;
  const tools: Tool[] = [...BACKENDS, 'compose'];
  const project = (t: Tool) => projectOf(t, key);
  const up = new Map<Tool, number[]>(tools.map((t) => [t, []]));
  const down = new Map<Tool, number[]>(tools.map((t) => [t, []]));
  for (let i = 0; i <= RUNS; i++) {
    const u = new Map<Tool, number>();
    const d = new Map<Tool, number>();
    for (const t of tools) u.set(t, await time(t, project(t), dir, 'up', '-d'));
    for (const t of tools) d.set(t, await time(t, project(t), dir, 'down'));
    if (i === 0) continue; // warm-up
    for (const t of tools) {
      up.get(t)!.push(u.get(t)!);
      down.get(t)!.push(d.get(t)!);
    }
  }
  if (TRACING) {
    for (const t of BACKENDS) {
      await trace(t, project(t), dir, 'up', '-d');
      await trace(t, project(t), dir, 'down');
    }
  }
  for (const t of BACKENDS) summary(t, `up -d   ${label}`, up.get(t)!, up.get('compose')!);
  for (const t of BACKENDS) summary(t, `down    ${label}`, down.get(t)!, down.get('compose')!);
}

async function benchNoop(dir: string): Promise<void> {
  const c: Case = { n: 10, shape: 'fan-out', init: true };
  writeFileSync(join(dir, 'compose.yaml'), composeFile(c));
  const tools: Tool[] = [...BACKENDS, 'compose'];
  const project = (t: Tool) => projectOf(t, 'noop');
  for (const t of tools) await time(t, project(t), dir, 'up', '-d');
  try {
    const times = new Map<Tool, number[]>(tools.map((t) => [t, []]));
    for (let i = 0; i <= 10; i++) {
      const round = new Map<Tool, number>();
      for (const t of tools) round.set(t, await time(t, project(t), dir, 'up', '-d'));
      if (i === 0) continue;
      for (const t of tools) times.get(t)!.push(round.get(t)!);
    }
    for (const t of BACKENDS) summary(t, 'no-op up -d (10 services)', times.get(t)!, times.get('compose')!);
    if (TRACING) for (const t of BACKENDS) await trace(t, project(t), dir, 'up', '-d');
  } finally {
    for (const t of tools) await time(t, project(t), dir, 'down');
  }
}

const CASES = process.env.BENCH_CASES?.split(',').map((x) => x.trim()).filter(Boolean);
const wanted = (label: string) => !CASES || CASES.some((c) => (c === 'no-op' ? label === 'no-op' : label === c));

runBench(() =>
  composeBench('compose-up', `${RUNS} recorded rounds per case`, async (dir) => {
    if (wanted('no-op')) await benchNoop(dir);
    const cases: Case[] = [];
    for (const n of [1, 10, 30]) {
      cases.push({ n, shape: 'fan-out', init: true }, { n, shape: 'chain', init: true }, { n, shape: 'fan-out', init: false });
    }
    for (const c of cases) {
      if (c.n === 1 && c.shape === 'chain') continue; // one service: a chain is a fan-out
      if (wanted(`${c.n} ${c.shape}${c.init ? ' init' : ''}`)) await benchCase(c, dir);
    }
  }),
);
