/**
 * `logs --tail 10` of a service whose log holds LINES lines (300 000 by
 * default, about 20 MB of text): tscompose on its own engine and with
 * --backend docker against docker-compose 1.29 on dockerd, same run,
 * interleaved. A tail should cost what the last lines cost, not the whole
 * log: the figure shows whether it does.
 *
 *   npx tsc -p tsconfig.bench.json && node dist-bench/bench/logs-tail.js
 *
 * BENCH_RUNS (default 10) sets the recorded rounds, after one warm-up;
 * BENCH_LINES the log's length; BENCH_BACKENDS the tscompose rows.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKENDS, IMAGE, LABEL, composeBench, output, projectOf, runBench, summary, time, type Tool } from './compose-support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const LINES = Number(process.env.BENCH_LINES ?? 300_000);
const LAST = `log line ${LINES - 1} `;

function composeFile(): string {
  const awk = `BEGIN { for (i = 0; i < ${LINES}; i++) print "log line " i " of a service that writes much, padded to look like a real record" }`;
  return [
    'version: "2.4"',
    'services:',
    '  writer:',
    `    image: "${IMAGE}"`,
    `    command: ["sh", "-c", ${JSON.stringify(`awk '${awk}'; exec sleep 3600`)}]`,
    '    init: true',
    '    network_mode: none',
    '',
  ].join('\n');
}

/** Waits (bounded) until the tool's `logs --tail 1` shows the last line the writer prints. */
async function awaitLog(t: Tool, project: string, dir: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const out = await output(t, project, dir, 'logs', '--no-color', '--tail=1', 'writer');
    if (out.includes(LAST)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${LABEL[t]}: the writer's log never reached ${LINES} lines`);
}

runBench(() =>
  composeBench('logs-tail', `a log of ${LINES} lines, ${RUNS} recorded rounds`, async (dir) => {
    const tools: Tool[] = [...BACKENDS, 'compose'];
    const project = (t: Tool) => projectOf(t, 'logs');
    writeFileSync(join(dir, 'compose.yaml'), composeFile());
    try {
      for (const t of tools) await time(t, project(t), dir, 'up', '-d');
      for (const t of tools) await awaitLog(t, project(t), dir);
      const times = new Map<Tool, number[]>(tools.map((t) => [t, []]));
      for (let i = 0; i <= RUNS; i++) {
        const round = new Map<Tool, number>();
        for (const t of tools) round.set(t, await time(t, project(t), dir, 'logs', '--no-color', '--tail=10', 'writer'));
        if (i === 0) continue; // warm-up
        for (const t of tools) times.get(t)!.push(round.get(t)!);
      }
      for (const t of BACKENDS) summary(t, `logs --tail 10 (${LINES} lines)`, times.get(t)!, times.get('compose')!);
    } finally {
      for (const t of tools) await time(t, project(t), dir, 'down', '-t', '0').catch((err: unknown) => console.error(`${LABEL[t]} down: ${String(err)}`));
    }
  }),
);
