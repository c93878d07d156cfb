import { Option, type Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { images, ls, port, top } from '../../compose/info.js';
import type { PortProtocol } from '../../engine/types.js';
import { humanSize } from '../../util/human.js';
import { table } from '../present/format.js';
import { UserError } from '../../util/errors.js';
import { VERSION } from '../../util/version.js';

/** top, port, images, ls, version: read-only views of the project and the engine. */
export function register(program: Command): void {
  program
    .command('top')
    .description('Display the running processes')
    .argument('[SERVICE...]')
    .action(
      action(async (ctx: CliContext, services: string[]) => {
        const tops = await top(await ctx.engine(), await ctx.projectOrName(), { services });
        process.stdout.write(tops.map((t) => `${t.container}\n${table(t.titles, t.processes)}`).join('\n'));
      }),
    );
  program
    .command('port')
    .description('Print the public port for a port binding')
    .argument('<SERVICE>')
    .argument('<PRIVATE_PORT>')
    .option('--index <n>', 'Index of the container if service has multiple replicas', '1')
    .addOption(new Option('--protocol <proto>', 'tcp or udp').choices(['tcp', 'udp', 'sctp']).default('tcp'))
    .action(
      action(async (ctx: CliContext, service: string, privatePort: string, f: { index: string; protocol: PortProtocol }) => {
        const p = Number(privatePort);
        if (!Number.isInteger(p) || p <= 0 || p > 65535) throw new UserError(`invalid port "${privatePort}"`, 1, 'give the container port, e.g. 80');
        const bound = await port(await ctx.engine(), await ctx.projectOrName(), { service, port: p, protocol: f.protocol, index: Number(f.index) });
        process.stdout.write(`${bound.hostIp}:${bound.hostPort}\n`);
      }),
    );
  program
    .command('images')
    .description('List images used by the created containers')
    .argument('[SERVICE...]')
    .option('-q, --quiet', 'Only display IDs')
    .option('--format <format>', 'Format the output. Values: [table | json]', 'table')
    .action(
      action(async (ctx: CliContext, services: string[], f: { quiet?: boolean; format: string }) => {
        const rows = await images(await ctx.engine(), await ctx.projectOrName(), { services });
        if (f.quiet) process.stdout.write([...new Set(rows.map((r) => r.id))].map((id) => `${id}\n`).join(''));
        else if (f.format === 'json') process.stdout.write(JSON.stringify(rows.map((r) => ({ ID: r.id, ContainerName: r.container, Repository: r.repository, Tag: r.tag, Size: r.size }))) + '\n');
        else process.stdout.write(table(['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], rows.map((r) => [r.container, r.repository, r.tag, r.id.replace(/^sha256:/, '').slice(0, 12), humanSize(r.size)])));
      }),
    );
  program
    .command('ls')
    .description('List running compose projects')
    .option('-a, --all', 'Show all stopped Compose projects')
    .option('-q, --quiet', 'Only display project names')
    .option('--format <format>', 'Format the output. Values: [table | json]', 'table')
    .option('--filter <filter>', 'Filter output based on conditions provided (name=...)')
    .action(
      action(async (ctx: CliContext, f: { all?: boolean; quiet?: boolean; format: string; filter?: string }) => {
        let name: string | undefined;
        if (f.filter) {
          const m = /^name=(.*)$/.exec(f.filter);
          if (!m) throw new UserError(`unsupported filter "${f.filter}"`, 1, 'only name=<project> is supported');
          name = m[1]!;
        }
        const projects = await ls(await ctx.engine(), { all: f.all, ...(name !== undefined ? { name } : {}) });
        if (f.quiet) process.stdout.write(projects.map((p) => `${p.name}\n`).join(''));
        else if (f.format === 'json') process.stdout.write(JSON.stringify(projects.map((p) => ({ Name: p.name, Status: p.status, ConfigFiles: p.configFiles.join(',') }))) + '\n');
        else process.stdout.write(table(['NAME', 'STATUS', 'CONFIG FILES'], projects.map((p) => [p.name, p.status, p.configFiles.join(',')])));
      }),
    );
  program
    .command('version')
    .description('Show the tscompose version information')
    .option('-f, --format <format>', 'Format the output. Values: [pretty | json]', 'pretty')
    .option('--short', "Shows only tscompose's version number")
    .action((f: { format?: string; short?: boolean }) => {
      if (f.short) process.stdout.write(`${VERSION}\n`);
      else if (f.format === 'json') process.stdout.write(JSON.stringify({ version: VERSION }) + '\n');
      else process.stdout.write(`tscompose version ${VERSION}\n`);
    });
}
