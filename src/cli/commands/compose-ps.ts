import type { Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { collect } from '../flags.js';
import { ps } from '../../compose/ps.js';
import { swarmPs } from '../swarm/verbs.js';
import type { ContainerState, ContainerSummary } from '../../engine/types.js';
import { publishedPorts, render } from '../present/format.js';
import { UserError } from '../../util/errors.js';

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  format?: string;
  services?: boolean;
  status?: string[];
  filter?: string[];
  orphans?: boolean;
  trunc?: boolean;
}

const STATES: readonly ContainerState[] = ['paused', 'restarting', 'removing', 'running', 'dead', 'created', 'exited'];

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
    .option('--orphans', 'Include orphaned services (not declared by project) (default true)')
    .option('--no-orphans', "Don't include orphaned services")
    .option('--no-trunc', "Don't truncate output")
    .action(action((ctx: CliContext, services: string[], f: PsFlags) => (ctx.globals.backend === 'swarm' ? swarmPs(ctx, services) : runPs(ctx, services, f))));
}

async function runPs(ctx: CliContext, services: string[], f: PsFlags): Promise<void> {
  const status = [...(f.status ?? []), ...(f.filter ?? []).map((x) => parseFilter(x))];
  for (const s of status) if (!STATES.includes(s as ContainerState)) throw new UserError(`invalid status "${s}"`, 1, `use one of ${STATES.join(', ')}`);
  const rows = await ps(await ctx.engine(), await ctx.projectOrName(), { services, all: f.all, status: status as ContainerState[], orphans: f.orphans });
  if (f.services) {
    const names = [...new Set(rows.map((c) => c.labels['com.docker.compose.service'] ?? ''))];
    process.stdout.write(names.map((n) => `${n}\n`).join(''));
    return;
  }
  if (f.quiet) {
    process.stdout.write(rows.map((c) => `${c.id}\n`).join(''));
    return;
  }
  process.stdout.write(render(rows.map(psRow), f.format ?? 'table', ['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'], (r) => [r.Name, r.Image, f.trunc === false ? r.Command : truncateCommand(r.Command), r.Service, r.RunningFor, r.Status, r.Ports]));
}

function parseFilter(x: string): string {
  const m = /^status=(.+)$/.exec(x);
  if (!m) throw new UserError(`unsupported filter "${x}"`, 1, 'only status=<state> is supported');
  return m[1]!;
}

/** A row as `docker compose ps --format json` prints it. */
function psRow(c: ContainerSummary) {
  return {
    ID: c.id,
    Name: c.name,
    Image: c.image,
    Command: JSON.stringify(c.command),
    Project: c.labels['com.docker.compose.project'] ?? '',
    Service: c.labels['com.docker.compose.service'] ?? '',
    Created: Math.floor(c.created / 1000),
    RunningFor: ago(c.created),
    State: c.state,
    Health: c.health ?? '',
    ExitCode: c.exitCode ?? 0,
    Status: c.status,
    Ports: publishedPorts(c),
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
