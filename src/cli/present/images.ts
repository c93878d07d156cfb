import type { ImageHistoryEntry, ImageSummary } from '../../engine/types.js';
import { UserError } from '../../util/errors.js';
import { goTime, humanSize, shortId, since } from './docker.js';

/** `image ls` and `image history` as the docker CLI prints them, from the Engine's summaries. */

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

/** "registry/repo:tag" → [repository, tag] (a colon in a registry's host:port is not a tag). */
function splitTag(ref: string): [string, string | undefined] {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, undefined];
}

export function imageRows(images: ImageSummary[], opts: { noTrunc?: boolean } = {}): Array<ImageRow & { image: ImageSummary }> {
  const rows: Array<ImageRow & { image: ImageSummary }> = [];
  for (const img of images) {
    const row = (Repository: string, Tag: string, Digest: string) => ({
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
      image: img,
    });
    const digestOf = (repo: string) => img.repoDigests.find((d) => d.slice(0, d.indexOf('@')) === repo)?.split('@')[1] ?? '<none>';
    if (img.repoTags.length === 0) {
      rows.push(row('<none>', '<none>', img.repoDigests[0]?.split('@')[1] ?? '<none>'));
      continue;
    }
    for (const t of img.repoTags) {
      const [repo, tag] = splitTag(t);
      rows.push(row(repo, tag ?? '<none>', digestOf(repo)));
    }
  }
  return rows;
}

/**
 * `image ls REPOSITORY[:TAG]`: the rows of that repository (named as the
 * user likes: `busybox`, `library/busybox`, `docker.io/library/busybox`),
 * of that tag when one is given.
 */
export function rowsOfRepository<R extends ImageRow>(rows: R[], repository: string): R[] {
  const at = repository.indexOf('@');
  const [name, tag] = splitTag(at >= 0 ? repository.slice(0, at) : repository);
  const familiar = name.replace(/^(?:index\.)?docker\.io\//, '').replace(/^library\/(?=[^/]+$)/, '');
  return rows.filter((r) => r.Repository === familiar && (tag === undefined || r.Tag === tag));
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
export function filterRows<R extends ImageRow & { image: ImageSummary }>(rows: R[], filters: string[], named: Map<string, ImageSummary>): R[] {
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
        out = out.filter((r) => k !== undefined && k in r.image.labels && (v === undefined || r.image.labels[k] === v));
        break;
      }
      case 'before':
      case 'since': {
        const ref = named.get(value);
        if (!ref) throw new UserError(`No such image: ${value}`);
        out = out.filter((r) => (key === 'before' ? r.image.created < ref.created : r.image.created > ref.created));
        break;
      }
      default:
        throw new UserError(`invalid filter '${key}'`, 1, 'Filters: dangling=true|false, reference=PATTERN, label=KEY[=VALUE], before=IMAGE, since=IMAGE');
    }
  }
  return out;
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
export function historyRows(steps: ImageHistoryEntry[], opts: { noTrunc?: boolean; human?: boolean } = {}): HistoryRow[] {
  return steps.map((h) => ({
    ID: h.id === '<missing>' || opts.noTrunc ? h.id : shortId(h.id),
    CreatedAt: h.created ? new Date(h.created).toISOString() : '',
    CreatedSince: since(h.created),
    CreatedBy: opts.noTrunc || h.createdBy.length <= 45 ? h.createdBy : `${h.createdBy.slice(0, 44)}…`,
    Size: opts.human === false ? String(h.size) : humanSize(h.size),
    Comment: h.comment,
  }));
}
