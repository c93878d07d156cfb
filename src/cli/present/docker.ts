import { UserError } from '../../util/errors.js';
import { humanDuration } from '../../util/human.js';

/**
 * How the object verbs print things, the way the docker CLI does: go-units
 * sizes and durations, tabwriter tables, and the small part of Go templates
 * that `--format` is used with in practice (`{{.Field}}`, `{{.A.B}}`,
 * `{{json .}}`, `{{json .Field}}`, `table`).
 */

export { humanDuration, humanSize } from '../../util/human.js';

/** "3 days ago" from milliseconds since the epoch ("N/A" for none). */
export function since(ms: number | undefined, now = Date.now()): string {
  if (!ms) return 'N/A';
  return `${humanDuration(now - ms)} ago`;
}

/** Go's time.Time String() form as docker prints CreatedAt: `2024-01-02 03:04:05 +0000 UTC`. */
export function goTime(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** text/tabwriter with docker's settings (minwidth 10, padding 3): cells padded to their column's width. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(Math.max(10, widths[i]! + 3)))).join(''))
    .join('\n') + '\n';
}

/** The part of Go templates docker's --format users rely on. */
export function renderTemplate(template: string, value: unknown): string {
  const tpl = template.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return tpl.replace(/\{\{\s*(json\s+)?\.([\w.]*)\s*\}\}/g, (_, json: string | undefined, path: string) => {
    let v: unknown = value;
    for (const key of path.split('.').filter(Boolean)) {
      if (v === null || typeof v !== 'object' || !(key in (v as object))) {
        throw new UserError(`template: can't evaluate field ${key} in ${JSON.stringify(template)}`);
      }
      v = (v as Record<string, unknown>)[key];
    }
    if (json) return JSON.stringify(v ?? null);
    if (v === null || v === undefined) return '<no value>';
    if (Array.isArray(v)) return `[${v.join(' ')}]`;
    if (typeof v === 'object') return `map[${Object.entries(v as object).map(([k, x]) => `${k}:${String(x)}`).join(' ')}]`;
    return String(v);
  });
}
