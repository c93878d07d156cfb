import { templateVariables, type TemplateVariable } from '../project/template.js';
import { byCodeUnits } from '../util/order.js';

/**
 * `config --variables`: the variables the compose files refer to (read
 * before interpolation), one entry each, sorted by name; a variable written
 * several times is required if any place requires it, and keeps the first
 * default and alternate value given.
 */
export function modelVariables(model: unknown): TemplateVariable[] {
  const byName = new Map<string, TemplateVariable>();
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const t of templateVariables(v)) {
        const seen = byName.get(t.name);
        if (!seen) byName.set(t.name, { ...t });
        else {
          seen.required ||= t.required;
          seen.defaultValue ??= t.defaultValue;
          seen.alternateValue ??= t.alternateValue;
        }
      }
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(model);
  return [...byName.values()].sort((a, b) => byCodeUnits(a.name, b.name));
}

/** Compose's rendering: a table (NAME, REQUIRED, DEFAULT VALUE, ALTERNATE VALUE), or by name in json. */
export function variablesText(vars: readonly TemplateVariable[], format: 'table' | 'json' = 'table'): string {
  if (format === 'json') {
    const out: Record<string, { Name: string; DefaultValue: string; PresenceValue: string; Required: boolean }> = {};
    for (const v of vars) out[v.name] = { Name: v.name, DefaultValue: v.defaultValue ?? '', PresenceValue: v.alternateValue ?? '', Required: v.required };
    return JSON.stringify(out, null, 2) + '\n';
  }
  const rows = [['NAME', 'REQUIRED', 'DEFAULT VALUE', 'ALTERNATE VALUE'], ...vars.map((v) => [v.name, v.required ? 'true' : 'false', v.defaultValue ?? '', v.alternateValue ?? ''])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd() + '\n').join('');
}
