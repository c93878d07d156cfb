import type { Command } from 'commander';
import { action, collect, type ComposeContext } from './compose-context.js';
import type { ContainerSummary } from '../../engine/types.js';
import { UserError } from '../../util/errors.js';

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  format?: string;
  services?: boolean;
  status?: string[];
  filter?: string[];
  orphans?: boolean;
}

const STATES = ['paused', 'restarting', 'removing', 'running', 'dead', 'created', 'exited'];

export function register(program: Command): void {
  program
    .command('ps')
    .description('List containers')
    .argument('[SERVICE...]')
    .option('-a, --all', 'Show all stopped containers (including those created by the run command)')
    .option('-q, --quiet', 'Only display IDs')
    .option('--format <format>', 'Format output using a custom template: "table" (default), "json", or a Go-like template with {{.Name}}, {{.Service}}, {{.State}}...', 'table')
    .option('--services', 'Display services')
    .option('--status <status>', `Filter services by status. Values: [${STATES.join(' | ')}]`, collect)
    .option('--filter <filter>', 'Filter services by a property (supported filters: status)', collect)
    .option('--no-orphans', "Don't include orphaned services")
    .action(action(runPs));
}

async function runPs(ctx: ComposeContext, services: string[], f: PsFlags): Promise<void> {
  const [{ Label }, { publishedPorts }] = await Promise.all([import('../../planner/labels.js'), import('./compose-format.js')]);
  const { project, name } = await ctx.projectOrName();
  const engine = await ctx.engine();
  const statuses = [...(f.status ?? []), ...(f.filter ?? []).map((x) => parseFilter(x))];
  for (const s of statuses) if (!STATES.includes(s)) throw new UserError(`invalid status "${s}"`, 1, `use one of ${STATES.join(', ')}`);
  const all = f.all || statuses.length > 0;
  let rows = await engine.containers.list({ all, labels: { [Label.project]: name } });
  if (!f.all) rows = rows.filter((c) => c.labels[Label.oneoff] !== 'True' || c.state === 'running');
  if (services.length) rows = rows.filter((c) => services.includes(c.labels[Label.service] ?? ''));
  if (statuses.length) rows = rows.filter((c) => statuses.includes(c.state));
  if (project && f.orphans === false) rows = rows.filter((c) => (c.labels[Label.service] ?? '') in project.services);
  rows.sort((a, b) => a.name.localeCompare(b.name));

  if (f.services) {
    const names = [...new Set(rows.map((c) => c.labels[Label.service] ?? ''))];
    process.stdout.write(names.map((n) => `${n}\n`).join(''));
    return;
  }
  if (f.quiet) {
    process.stdout.write(rows.map((c) => `${c.id}\n`).join(''));
    return;
  }
  const view = rows.map((c) => psRow(c, Label.service, publishedPorts));
  const { render } = await import('./compose-format.js');
  process.stdout.write(render(view, f.format ?? 'table', ['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'], (r) => [r.Name, r.Image, truncateCommand(r.Command), r.Service, r.RunningFor, r.Status, r.Ports]));
}

function parseFilter(x: string): string {
  const m = /^status=(.+)$/.exec(x);
  if (!m) throw new UserError(`unsupported filter "${x}"`, 1, 'only status=<state> is supported');
  return m[1]!;
}

function psRow(c: ContainerSummary, serviceLabel: string, ports: (c: ContainerSummary) => string) {
  return {
    ID: c.id,
    Name: c.name,
    Image: c.image,
    Command: JSON.stringify(c.command),
    Project: c.labels['com.docker.compose.project'] ?? '',
    Service: c.labels[serviceLabel] ?? '',
    Created: Math.floor(c.created / 1000),
    RunningFor: ago(c.created),
    State: c.state,
    Health: c.health ?? '',
    ExitCode: c.exitCode ?? 0,
    Status: c.status,
    Ports: ports(c),
    Labels: Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(','),
    Publishers: c.ports.map((p) => ({ URL: p.hostIp ?? '', TargetPort: p.target, PublishedPort: p.hostPort ?? 0, Protocol: p.protocol })),
  };
}

function truncateCommand(cmd: string): string {
  return cmd.length > 22 ? `${cmd.slice(0, 21)}…"` : cmd;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.floor((Date.now() - ms) / 1000));
  if (s < 60) return `${s} second${s === 1 ? '' : 's'} ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return m === 1 ? 'About a minute ago' : `${m} minutes ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return h === 1 ? 'About an hour ago' : `${h} hours ago`;
  return `${Math.floor(h / 24)} days ago`;
}
