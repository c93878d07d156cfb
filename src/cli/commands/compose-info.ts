import { Option, type Command } from 'commander';
import { action, type ComposeContext } from './compose-context.js';
import { UserError } from '../../util/errors.js';
import { VERSION } from '../../util/version.js';

/** top, port, images, ls, version: read-only views of the project and the engine. */
export function register(program: Command): void {
  program
    .command('top')
    .description('Display the running processes')
    .argument('[SERVICE...]')
    .action(action(runTop));
  program
    .command('port')
    .description('Print the public port for a port binding')
    .argument('<SERVICE>')
    .argument('<PRIVATE_PORT>')
    .option('--index <n>', 'Index of the container if service has multiple replicas', '1')
    .addOption(new Option('--protocol <proto>', 'tcp or udp').choices(['tcp', 'udp', 'sctp']).default('tcp'))
    .action(action(runPort));
  program
    .command('images')
    .description('List images used by the created containers')
    .argument('[SERVICE...]')
    .option('-q, --quiet', 'Only display IDs')
    .option('--format <format>', 'Format the output. Values: [table | json]', 'table')
    .action(action(runImages));
  program
    .command('ls')
    .description('List running compose projects')
    .option('-a, --all', 'Show all stopped Compose projects')
    .option('-q, --quiet', 'Only display project names')
    .option('--format <format>', 'Format the output. Values: [table | json]', 'table')
    .option('--filter <filter>', 'Filter output based on conditions provided (name=...)')
    .action(action(runLs));
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

async function projectContainers(ctx: ComposeContext, services: string[], all: boolean) {
  const { Label } = await import('../../planner/labels.js');
  const { name } = await ctx.projectOrName();
  const engine = await ctx.engine();
  let list = await engine.containers.list({ all, labels: { [Label.project]: name } });
  if (services.length) list = list.filter((c) => services.includes(c.labels[Label.service] ?? ''));
  return { list: list.sort((a, b) => a.name.localeCompare(b.name)), engine, name, Label };
}

async function runTop(ctx: ComposeContext, services: string[]): Promise<void> {
  const { list, engine } = await projectContainers(ctx, services, false);
  const { table } = await import('./compose-format.js');
  const tops = await Promise.all(list.map(async (c) => ({ c, top: await engine.containers.top(c.id) })));
  process.stdout.write(tops.map(({ c, top }) => `${c.name}\n${table(top.titles, top.processes)}`).join('\n'));
}

async function runPort(ctx: ComposeContext, service: string, privatePort: string, f: { index: string; protocol: string }): Promise<void> {
  const { serviceContainer } = await import('./compose-exec.js');
  const port = Number(privatePort);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UserError(`invalid port "${privatePort}"`, 1, 'give the container port, e.g. 80');
  const c = await serviceContainer(ctx, service, Number(f.index), false);
  const engine = await ctx.engine();
  const d = await engine.containers.inspect(c.id);
  const p = d?.ports.find((x) => x.target === port && x.protocol === f.protocol && x.hostPort !== undefined);
  if (!p) throw new UserError(`no port ${port}/${f.protocol} for container ${c.name}`, 1, 'publish it with ports: in the compose file');
  process.stdout.write(`${p.hostIp ?? '0.0.0.0'}:${p.hostPort}\n`);
}

async function runImages(ctx: ComposeContext, services: string[], f: { quiet?: boolean; format: string }): Promise<void> {
  const { list, engine, Label } = await projectContainers(ctx, services, true);
  const { table } = await import('./compose-format.js');
  const { humanSize } = await import('../../engine/status.js');
  const rows = await Promise.all(
    list.map(async (c) => {
      const img = await engine.images.inspect(c.imageId || c.image);
      const [repo, tag] = splitTag(c.image);
      return { container: c.name, service: c.labels[Label.service] ?? '', repository: repo, tag, id: img?.id ?? c.imageId, size: img?.size ?? 0, created: img?.created ?? 0 };
    }),
  );
  if (f.quiet) {
    process.stdout.write([...new Set(rows.map((r) => r.id))].map((id) => `${id}\n`).join(''));
    return;
  }
  if (f.format === 'json') {
    process.stdout.write(JSON.stringify(rows.map((r) => ({ ID: r.id, ContainerName: r.container, Repository: r.repository, Tag: r.tag, Size: r.size }))) + '\n');
    return;
  }
  process.stdout.write(table(['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], rows.map((r) => [r.container, r.repository, r.tag, r.id.replace(/^sha256:/, '').slice(0, 12), humanSize(r.size)])));
}

function splitTag(ref: string): [string, string] {
  const at = ref.indexOf('@');
  const base = at >= 0 ? ref.slice(0, at) : ref;
  const colon = base.lastIndexOf(':');
  return colon > base.lastIndexOf('/') ? [base.slice(0, colon), base.slice(colon + 1)] : [base, 'latest'];
}

async function runLs(ctx: ComposeContext, f: { all?: boolean; quiet?: boolean; format: string; filter?: string }): Promise<void> {
  const { Label } = await import('../../planner/labels.js');
  const { table } = await import('./compose-format.js');
  const engine = await ctx.engine();
  const containers = await engine.containers.list({ all: true, labels: { [Label.project]: undefined } });
  const projects = new Map<string, { states: Map<string, number>; files: Set<string> }>();
  for (const c of containers) {
    const name = c.labels[Label.project]!;
    const p = projects.get(name) ?? { states: new Map(), files: new Set() };
    p.states.set(c.state, (p.states.get(c.state) ?? 0) + 1);
    if (c.labels[Label.configFiles]) p.files.add(c.labels[Label.configFiles]!);
    projects.set(name, p);
  }
  let names = [...projects.keys()].sort();
  if (!f.all) names = names.filter((n) => projects.get(n)!.states.has('running'));
  if (f.filter) {
    const m = /^name=(.*)$/.exec(f.filter);
    if (!m) throw new UserError(`unsupported filter "${f.filter}"`, 1, 'only name=<project> is supported');
    names = names.filter((n) => n.includes(m[1]!));
  }
  const status = (n: string) =>
    [...projects.get(n)!.states.entries()]
      .sort()
      .map(([s, k]) => `${s}(${k})`)
      .join(', ');
  const files = (n: string) => [...projects.get(n)!.files].join(',');
  if (f.quiet) process.stdout.write(names.map((n) => `${n}\n`).join(''));
  else if (f.format === 'json') process.stdout.write(JSON.stringify(names.map((n) => ({ Name: n, Status: status(n), ConfigFiles: files(n) }))) + '\n');
  else process.stdout.write(table(['NAME', 'STATUS', 'CONFIG FILES'], names.map((n) => [n, status(n), files(n)])));
}
