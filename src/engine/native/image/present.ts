import { UserError } from '../../../util/errors.js';
import type { ImageRecord, ImageStore } from './store.js';
import { familiarName, parseReference } from './reference.js';
import { humanDuration, humanSize } from '../../status.js';

/**
 * How `tscompose image ...` prints things, the way the docker CLI does:
 * go-units sizes and durations, tabwriter tables, inspect's JSON shape, and
 * the small part of Go templates that `--format` is used with in practice
 * (`{{.Field}}`, `{{.A.B}}`, `{{json .}}`, `{{json .Field}}`, `table`).
 */

export { humanDuration, humanSize } from '../../status.js';

export function since(iso: string | undefined, now = Date.now()): string {
  const t = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(t)) return 'N/A';
  return `${humanDuration(now - t)} ago`;
}

/** Go's time.Time String() form as docker prints CreatedAt: `2024-01-02 03:04:05 +0000 UTC`. */
export function goTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
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

/** One row of `image ls` per repository:tag (an untagged image is one `<none> <none>` row). */
export interface ImageRow {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
}

export function imageRows(images: ImageRecord[], opts: { noTrunc?: boolean } = {}): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const img of images) {
    const row = (Repository: string, Tag: string, Digest: string): ImageRow => ({
      // Docker's key order (alphabetical), so `--format json` lines compare equal.
      Containers: 'N/A',
      CreatedAt: goTime(img.created),
      CreatedSince: since(img.created),
      Digest,
      ID: opts.noTrunc ? img.id : shortId(img.id),
      Repository,
      SharedSize: 'N/A',
      Size: humanSize(img.size),
      Tag,
      UniqueSize: 'N/A',
      VirtualSize: humanSize(img.size),
    });
    const digestOf = (repo: string) => img.repoDigests.find((d) => familiarName(parseReference(d)) === repo)?.split('@')[1] ?? '<none>';
    if (img.repoTags.length === 0) {
      rows.push(row('<none>', '<none>', img.repoDigests[0]?.split('@')[1] ?? '<none>'));
      continue;
    }
    for (const t of img.repoTags) {
      const ref = parseReference(t);
      const repo = familiarName(ref);
      rows.push(row(repo, ref.tag ?? '<none>', digestOf(repo)));
    }
  }
  return rows;
}

/** Docker's path.Match for reference filters: `*` within a path component, `?` one char. */
function globMatch(pattern: string, text: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`).test(text);
}

/**
 * `image ls --filter`: dangling=true|false, reference=PATTERN, label=KEY[=VALUE],
 * before=IMAGE, since=IMAGE (the last two need the images they name).
 */
export function filterRows(rows: ImageRow[], images: ImageRecord[], filters: string[], named: Map<string, ImageRecord>): ImageRow[] {
  const byShort = new Map(images.map((i) => [shortId(i.id), i]));
  const imageOf = (r: ImageRow) => byShort.get(shortId(r.ID))!;
  let out = rows;
  for (const f of filters) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? '' : f.slice(eq + 1);
    switch (key) {
      case 'dangling':
        if (value !== 'true' && value !== 'false') throw new UserError(`invalid filter 'dangling=${value}': use dangling=true or dangling=false`);
        out = out.filter((r) => (r.Repository === '<none>') === (value === 'true'));
        break;
      case 'reference':
        out = out.filter((r) => r.Repository !== '<none>' && (globMatch(value, r.Repository) || globMatch(value, `${r.Repository}:${r.Tag}`)));
        break;
      case 'label': {
        const [k, v] = value.split(/=(.*)/s);
        out = out.filter((r) => {
          const labels = imageOf(r).config.config?.Labels ?? {};
          return k !== undefined && k in labels && (v === undefined || labels[k] === v);
        });
        break;
      }
      case 'before':
      case 'since': {
        const ref = named.get(value);
        if (!ref) throw new UserError(`No such image: ${value}`);
        out = out.filter((r) => (key === 'before' ? imageOf(r).created < ref.created : imageOf(r).created > ref.created));
        break;
      }
      default:
        throw new UserError(`invalid filter '${key}'`, 1, 'Filters: dangling=true|false, reference=PATTERN, label=KEY[=VALUE], before=IMAGE, since=IMAGE');
    }
  }
  return out;
}

/** `docker image inspect`'s shape (API 1.41), filled from the store. */
export function inspectImage(store: ImageStore, img: ImageRecord): Record<string, unknown> {
  const diffs = img.chainIds.map((c) => store.paths.layerDiff(c)).reverse();
  const stored = store.storedImage(img.id);
  const c = img.config;
  return {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Parent: '',
    Comment: typeof c.comment === 'string' ? c.comment : '',
    Created: img.created,
    Container: typeof c.container === 'string' ? c.container : '',
    ContainerConfig: c.container_config ?? null,
    DockerVersion: typeof c.docker_version === 'string' ? c.docker_version : '',
    Author: c.author ?? '',
    Config: c.config ?? null,
    Architecture: c.architecture,
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os,
    Size: img.size,
    VirtualSize: img.size,
    GraphDriver: {
      Data: diffs.length ? { UpperDir: diffs[0], ...(diffs.length > 1 ? { LowerDir: diffs.slice(1).join(':') } : {}) } : {},
      Name: 'overlay',
    },
    RootFS: { Type: c.rootfs.type, Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: stored?.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
}

export interface HistoryRow {
  ID: string;
  CreatedAt: string;
  CreatedSince: string;
  CreatedBy: string;
  Size: string;
  Comment: string;
}

/** `docker history`: newest first; the top row carries the image id, the rest `<missing>`. */
export function historyRows(store: ImageStore, img: ImageRecord, opts: { noTrunc?: boolean; human?: boolean } = {}): HistoryRow[] {
  const history = img.config.history ?? [];
  const sizes = img.chainIds.map((c) => store.layer(c)?.size ?? 0);
  let layer = 0;
  const rows: HistoryRow[] = history.map((h) => {
    const size = h.empty_layer ? 0 : sizes[layer++] ?? 0;
    const createdBy = h.created_by ?? '';
    return {
      ID: '<missing>',
      CreatedAt: h.created ?? '',
      CreatedSince: since(h.created),
      CreatedBy: opts.noTrunc || createdBy.length <= 45 ? createdBy : `${createdBy.slice(0, 44)}…`,
      Size: opts.human === false ? String(size) : humanSize(size),
      Comment: h.comment ?? '',
    };
  });
  rows.reverse();
  if (rows[0]) rows[0].ID = opts.noTrunc ? img.id : shortId(img.id);
  return rows;
}
