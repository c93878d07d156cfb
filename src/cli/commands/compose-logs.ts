import type { Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { parseSinceTime } from '../flags.js';
import { logs } from '../../compose/logs.js';
import { LogPrinter, printingConsumer } from '../progress/logs.js';
import { colorFor } from '../progress/select.js';
import { UserError } from '../../util/errors.js';
import { swarmLogs } from '../swarm/verbs.js';

interface LogsFlags {
  follow?: boolean;
  timestamps?: boolean;
  tail?: string;
  since?: string;
  until?: string;
  color?: boolean;
  logPrefix?: boolean;
  index?: string;
}

export function register(program: Command): void {
  program
    .command('logs')
    .description('View output from containers')
    .argument('[SERVICE...]')
    .option('-f, --follow', 'Follow log output')
    .option('-t, --timestamps', 'Show timestamps')
    .option('-n, --tail <lines>', 'Number of lines to show from the end of the logs for each container', 'all')
    .option('--since <time>', 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .option('--until <time>', 'Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .option('--index <n>', 'index of the container if service has multiple replicas')
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .action(action(runLogs));
}

async function runLogs(ctx: CliContext, services: string[], f: LogsFlags): Promise<void> {
  const tail = f.tail === undefined || f.tail === 'all' || Number(f.tail) < 0 ? undefined : Number(f.tail);
  if (tail !== undefined && !Number.isInteger(tail)) throw new UserError(`invalid --tail value "${f.tail}"`, 1, 'give a number of lines, or "all"');
  if (ctx.globals.backend === 'swarm') {
    if (f.until !== undefined || f.index !== undefined) throw new UserError('--until and --index are not supported by logs with --backend swarm', 1, 'drop them; --since, --tail, -t and -f work');
    const since = parseSinceTime(f.since, '--since');
    return swarmLogs(ctx, services, { follow: f.follow, timestamps: f.timestamps, prefix: f.logPrefix !== false, ...(tail !== undefined ? { tail } : {}), ...(since !== undefined ? { since: Math.floor(since) } : {}) });
  }
  const color = f.color === false ? colorFor(process.stdout, 'never') : colorFor(process.stdout, ctx.globals.ansi);
  const printer = new LogPrinter(process.stdout, color, { prefix: f.logPrefix !== false, timestamps: f.timestamps });
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  try {
    const o = {
      services,
      follow: f.follow,
      tail,
      since: parseSinceTime(f.since, '--since'),
      until: parseSinceTime(f.until, '--until'),
      timestamps: f.timestamps,
      ...(f.index !== undefined ? { index: Number(f.index) } : {}),
      signal: stop.signal,
    };
    await logs(await ctx.engine(), await ctx.projectOrName(), o, printingConsumer(printer));
  } finally {
    process.off('SIGINT', onSigint);
  }
}
