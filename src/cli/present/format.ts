import type { ContainerSummary } from '../../engine/types.js';
import { UserError } from '../../util/errors.js';

/**
 * Output of listing verbs as Docker prints it: an aligned table (columns
 * three spaces apart), `json` (one object per line, as `docker compose ps
 * --format json` since 2.21), or a template with `{{.Field}}` placeholders.
 */
export function render<T extends Record<string, unknown>>(rows: T[], format: string, headers: string[], cells: (r: T) => string[]): string {
  if (format === 'json') return rows.map((r) => JSON.stringify(r) + '\n').join('');
  if (format === 'table' || format === '') return table(headers, rows.map(cells));
  const template = format.startsWith('table ') ? format.slice(6) : format;
  return rows.map((r) => fillTemplate(template, r) + '\n').join('');
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd() + '\n';
  return line(headers) + rows.map(line).join('');
}

function fillTemplate(template: string, row: Record<string, unknown>): string {
  return template
    .replace(/\\t/g, '\t')
    .replace(/\{\{\s*(json\s+)?\.(\w+)\s*\}\}/g, (_, json: string | undefined, key: string) => {
      if (!(key in row)) throw new UserError(`template: can't evaluate field ${key}`, 1, `fields: ${Object.keys(row).join(', ')}`);
      const v = row[key];
      return json || (v !== null && typeof v === 'object') ? JSON.stringify(v) : String(v);
    })
    .replace(/\{\{\s*json\s+\.\s*\}\}/g, () => JSON.stringify(row));
}

/** "0.0.0.0:8080->80/tcp, :::8080->80/tcp", as `docker ps` prints ports. */
export function publishedPorts(c: ContainerSummary): string {
  const parts: string[] = [];
  for (const p of [...c.ports].sort((a, b) => a.target - b.target || (a.hostPort ?? 0) - (b.hostPort ?? 0))) {
    if (p.hostPort === undefined) parts.push(`${p.target}/${p.protocol}`);
    else parts.push(`${p.hostIp === '::' ? '[::]' : (p.hostIp ?? '0.0.0.0')}:${p.hostPort}->${p.target}/${p.protocol}`);
  }
  return [...new Set(parts)].join(', ');
}
