import type { Command } from 'commander';
import { action, type ComposeContext } from './compose-context.js';
import { UserError } from '../../util/errors.js';

/** events (engine events of the project's containers, as they happen) and wait (block until containers stop). */
export function register(program: Command): void {
  program
    .command('events')
    .description('Receive real time events from containers')
    .argument('[SERVICE...]')
    .option('--json', 'Output events as a stream of json objects')
    .action(action(runEvents));
  program
    .command('wait')
    .description('Block until containers of all (or specified) services stop.')
    .argument('<SERVICE...>')
    .option('--down-project', 'Drops project when the first container stops')
    .action(action(runWait));
}

async function runEvents(ctx: ComposeContext, services: string[], f: { json?: boolean }): Promise<void> {
  const { Label } = await import('../../planner/labels.js');
  const { name } = await ctx.projectOrName();
  const engine = await ctx.engine();
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for await (const e of engine.events({ labels: { [Label.project]: name }, types: ['container'] }, stop.signal)) {
      const service = e.attributes[Label.service] ?? '';
      if (services.length && !services.includes(service)) continue;
      const attrs = Object.fromEntries(Object.entries(e.attributes).filter(([k]) => !k.startsWith('com.docker.compose.') && !k.startsWith('io.tscompose.')));
      if (f.json) {
        process.stdout.write(JSON.stringify({ time: new Date(e.time).toISOString(), type: e.type, action: e.action, id: e.id, service, attributes: attrs }) + '\n');
      } else {
        const a = Object.entries(attrs)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ');
        process.stdout.write(`${formatTime(e.time)} ${e.type} ${e.action} ${e.id}${a ? ` (${a})` : ''}\n`);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Docker's event time format: 2006-01-02 15:04:05.000000 (local time). */
function formatTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
}

/** Exit code: the first container to stop. */
async function runWait(ctx: ComposeContext, services: string[], f: { downProject?: boolean }): Promise<number> {
  const { Label } = await import('../../planner/labels.js');
  const { name } = await ctx.projectOrName();
  const engine = await ctx.engine();
  const list = (await engine.containers.list({ all: true, labels: { [Label.project]: name, [Label.oneoff]: 'False' } })).filter((c) =>
    services.includes(c.labels[Label.service] ?? ''),
  );
  for (const s of services) if (!list.some((c) => c.labels[Label.service] === s)) throw new UserError(`no container found for service "${s}"`);
  const stop = new AbortController();
  const first = await Promise.race(list.map((c) => engine.containers.wait(c.id, 'not-running', stop.signal)));
  stop.abort();
  if (f.downProject) {
    const [{ observe }, { planDown }, { run }] = await Promise.all([import('../../planner/observe.js'), import('../../planner/down.js'), import('./compose-lifecycle.js')]);
    const { project } = await ctx.projectOrName();
    await run(ctx, planDown(await observe(engine, name, project), { project }), 'Running');
  }
  return first.exitCode;
}
