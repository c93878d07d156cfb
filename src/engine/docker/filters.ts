/** Docker's `label` filter: "key=value", or "key" alone to match any value. */
export function labelFilters(labels: Record<string, string | undefined> | undefined): Record<string, string[]> {
  if (!labels) return {};
  const out = Object.entries(labels).map(([k, v]) => (v === undefined ? k : `${k}=${v}`));
  return out.length ? { label: out } : {};
}
