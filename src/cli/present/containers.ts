import type { ContainerState, ContainerSummary } from '../../engine/types.js';
import { UserError } from '../../util/errors.js';
import { humanDuration, renderTemplate, table } from './docker.js';
import { publishedPorts } from './format.js';
import { addLabelFilter, splitFilter } from '../container/flags.js';

/** `container ls` as the docker CLI prints it: columns, truncation, --format templates, --filter. */

export function ellipsis(s: string, max: number): string {
  return [...s].length > max ? [...s].slice(0, max - 1).join('') + '…' : s;
}

export interface PsRow {
  ID: string;
  Image: string;
  Command: string;
  CreatedAt: string;
  RunningFor: string;
  Status: string;
  State: string;
  Ports: string;
  Names: string;
  Labels: string;
  Mounts: string;
}

export function psRows(list: ContainerSummary[], opts: { noTrunc?: boolean } = {}, now = Date.now()): PsRow[] {
  return list.map((c) => ({
    ID: opts.noTrunc ? c.id : c.id.slice(0, 12),
    Image: c.image,
    Command: JSON.stringify(opts.noTrunc ? c.command : ellipsis(c.command, 20)),
    CreatedAt: new Date(Math.floor(c.created / 1000) * 1000).toISOString(),
    RunningFor: `${humanDuration(now - c.created)} ago`,
    Status: c.status,
    State: c.state,
    Ports: publishedPorts(c),
    Names: c.name,
    Labels: Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(','),
    Mounts: c.mounts.map((m) => m.name ?? m.source).join(','),
  }));
}

export function renderPs(rows: PsRow[], opts: { quiet?: boolean; format?: string }): string {
  if (opts.quiet) return rows.map((r) => `${r.ID}\n`).join('');
  const format = opts.format;
  if (format === 'json') return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  if (format && format !== 'table') {
    const tpl = format.replace(/^table\s+/, '');
    const lines = rows.map((r) => renderTemplate(tpl, r));
    if (!format.startsWith('table ')) return lines.map((l) => `${l}\n`).join('');
    const head = tpl.replace(/\\t/g, '\t').split('\t').map((c) => c.replace(/\{\{\s*\.(\w+)\s*\}\}/g, '$1').toUpperCase());
    return table([head, ...lines.map((l) => l.split('\t'))]);
  }
  return table([
    ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
    ...rows.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names]),
  ]);
}

export interface PsFilter {
  labels?: Record<string, string | undefined>;
  name?: string;
  id?: string;
  status?: ContainerState[];
}

/** --filter label=k[=v], name=..., id=..., status=... */
export function parsePsFilters(filters: string[] = []): PsFilter {
  const out: PsFilter = {};
  for (const f of filters) {
    const [key, value] = splitFilter(f);
    if (key === 'label') out.labels = addLabelFilter(out.labels, value);
    else if (key === 'name') out.name = value;
    else if (key === 'id') out.id = value;
    else if (key === 'status') {
      if (!['created', 'running', 'exited'].includes(value)) {
        throw new UserError(`invalid filter 'status=${value}'`, 1, 'the native engine knows created, running and exited');
      }
      out.status = [...(out.status ?? []), value as ContainerState];
    } else throw new UserError(`invalid filter '${key}'`, 1, 'use label, name, id or status');
  }
  return out;
}

/** The filters the engine's listing does not take: a name part, an id prefix, states. */
export function filterContainers(list: ContainerSummary[], f: PsFilter): ContainerSummary[] {
  return list.filter(
    (c) => (!f.name || c.name.includes(f.name.replace(/^\//, ''))) && (!f.id || c.id.startsWith(f.id)) && (!f.status || f.status.includes(c.state)),
  );
}
