import type { Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { volumes } from '../../compose/info.js';
import { projectContainers } from '../../compose/containers.js';
import { printStats, statsOptions, type StatsFlags } from '../container/stats.js';
import { renderTemplate, table } from '../present/docker.js';

/** volumes, stats: the project's volumes and its containers' resource use. */
export function register(program: Command): void {
  program
    .command('volumes')
    .description('List volumes')
    .argument('[SERVICE...]')
    .option('-q, --quiet', 'Only display volume names')
    .option('--format <format>', "Format output using a template ('table', 'json' or a Go-like template)", 'table')
    .action(
      action(async (ctx: CliContext, services: string[], f: { quiet?: boolean; format: string }) => {
        const list = await volumes(await ctx.engine(), await ctx.projectOrName(), { services });
        const rows = list.map((v) => ({ Driver: v.driver, Name: v.name, Mountpoint: v.mountpoint, Labels: Object.entries(v.labels).map(([k, x]) => `${k}=${x}`).join(',') }));
        if (f.quiet) process.stdout.write(rows.map((r) => `${r.Name}\n`).join(''));
        else if (f.format === 'json') process.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
        else if (f.format !== 'table') process.stdout.write(rows.map((r) => `${renderTemplate(f.format.replace(/^table\s+/, ''), r)}\n`).join(''));
        else process.stdout.write(table([['DRIVER', 'VOLUME NAME'], ...rows.map((r) => [r.Driver, r.Name])]));
      }),
    );
  statsOptions(program.command('stats').description("Display a live stream of container(s) resource usage statistics").argument('[SERVICE]')).action(
    action(async (ctx: CliContext, service: string | undefined, f: StatsFlags) => {
      const engine = await ctx.engine();
      const project = await ctx.projectOrName();
      const list = await projectContainers(engine, project.name, { all: f.all ?? false, services: service ? [service] : [] });
      await printStats(engine, list.map((c) => c.id), f);
    }),
  );
}
