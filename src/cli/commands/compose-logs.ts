import type { Command } from 'commander';
import { action, type ComposeContext } from './compose-context.js';
import { UserError } from '../../util/errors.js';

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

/** A time as Docker's `--since` takes it: RFC 3339, a unix timestamp, or a duration ago ("42m", "1h30m"). */
export function parseTime(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const rel = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(v);
  if (rel && v !== '') return Date.now() / 1000 - (Number(rel[1] ?? 0) * 3600 + Number(rel[2] ?? 0) * 60 + Number(rel[3] ?? 0));
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UserError(`invalid ${flag} value "${v}"`, 1, 'give a timestamp (2013-01-02T13:23:37Z), unix seconds, or a duration like 42m');
  return t / 1000;
}

async function runLogs(ctx: ComposeContext, services: string[], f: LogsFlags): Promise<void> {
  const [{ Label }, { LogPrinter }, { colorFor }, { displayName }] = await Promise.all([
    import('../../planner/labels.js'),
    import('../progress/logs.js'),
    import('../progress/select.js'),
    import('./compose-attach.js'),
  ]);
  const { name } = await ctx.projectOrName();
  const engine = await ctx.engine();
  const tail = f.tail === undefined || f.tail === 'all' || Number(f.tail) < 0 ? undefined : Number(f.tail);
  if (tail !== undefined && !Number.isInteger(tail)) throw new UserError(`invalid --tail value "${f.tail}"`, 1, 'give a number of lines, or "all"');
  let containers = await engine.containers.list({ all: true, labels: { [Label.project]: name } });
  if (services.length) {
    for (const s of services) {
      if (!containers.some((c) => c.labels[Label.service] === s)) throw new UserError(`no container found for service "${s}"`);
    }
    containers = containers.filter((c) => services.includes(c.labels[Label.service] ?? ''));
  }
  if (f.index !== undefined) containers = containers.filter((c) => c.labels[Label.containerNumber] === f.index);
  containers.sort((a, b) => a.name.localeCompare(b.name));
  const color = f.color === false ? colorFor(process.stdout, 'never') : colorFor(process.stdout, ctx.globals.ansi);
  const printer = new LogPrinter(process.stdout, color, { prefix: f.logPrefix !== false, timestamps: f.timestamps });
  for (const c of containers) printer.register(displayName(c, name), c.labels[Label.service] ?? c.name);
  const since = parseTime(f.since, '--since');
  const until = parseTime(f.until, '--until');
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  try {
    await Promise.all(
      containers.map(async (c) => {
        for await (const line of engine.containers.logs(c.id, { follow: f.follow, tail, since, until, timestamps: f.timestamps, signal: stop.signal })) {
          printer.line(displayName(c, name), c.labels[Label.service] ?? c.name, line);
        }
      }),
    );
  } finally {
    process.off('SIGINT', onSigint);
  }
}
