import type { Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { events, wait } from '../../compose/events.js';
import { parseSinceTime } from '../flags.js';

/** events (engine events of the project's containers, as they happen) and wait (block until containers stop). */
export function register(program: Command): void {
  program
    .command('events')
    .description('Receive real time events from containers')
    .argument('[SERVICE...]')
    .option('--json', 'Output events as a stream of json objects')
    .option('--since <string>', 'Show all events created since timestamp (RFC 3339, unix seconds, or a duration ago like 42m)')
    .option('--until <string>', 'Stream events until this timestamp (RFC 3339, unix seconds, or a duration ago like 42m)')
    .action(action(runEvents));
  program
    .command('wait')
    .description('Block until containers of all (or specified) services stop.')
    .argument('<SERVICE...>')
    .option('--down-project', 'Drops project when the first container stops')
    .action(
      action(async (ctx: CliContext, services: string[], f: { downProject?: boolean }) => {
        return (await wait(await ctx.engine(), await ctx.projectOrName(), { services, downProject: f.downProject }, ctx.listener())).exitCode;
      }),
    );
}

async function runEvents(ctx: CliContext, services: string[], f: { json?: boolean; since?: string; until?: string }): Promise<void> {
  const since = parseSinceTime(f.since, '--since');
  const until = parseSinceTime(f.until, '--until');
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const window = { ...(since !== undefined ? { since: since * 1000 } : {}), ...(until !== undefined ? { until: until * 1000 } : {}) };
    for await (const e of events(await ctx.engine(), await ctx.projectOrName(), { services, signal: stop.signal, ...window })) {
      if (f.json) {
        process.stdout.write(JSON.stringify({ time: new Date(e.time).toISOString(), type: e.type, action: e.action, id: e.id, service: e.service, attributes: e.attributes }) + '\n');
      } else {
        const a = Object.entries(e.attributes)
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
