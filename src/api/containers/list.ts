import type { ContainerSummary, Engine } from '../../engine/types.js';
import { badRequest, boolParam, intParam, labelFilter, parseFilters } from '../http.js';
import { containerJson } from '../json.js';

/**
 * `GET /containers/json`: the Engine's list with Docker's filters (label,
 * name as a regular expression, id prefix, status, exited, ancestor,
 * network, health, volume, publish, expose, before, since), `all`, `limit`.
 */

const FILTERS = ['id', 'name', 'label', 'status', 'exited', 'ancestor', 'network', 'health', 'volume', 'publish', 'expose', 'before', 'since', 'is-task'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

function regexps(values: string[] | undefined, what: string): RegExp[] | undefined {
  if (!values?.length) return undefined;
  return values.map((v) => {
    try {
      return new RegExp(v);
    } catch {
      throw badRequest(`invalid ${what} filter "${v}": not a regular expression`);
    }
  });
}

function portFilter(values: string[] | undefined): ((port: number, proto: string) => boolean) | undefined {
  if (!values?.length) return undefined;
  const wanted = values.map((v) => {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(v);
    if (!m) throw badRequest(`invalid port filter "${v}": write PORT[-END][/PROTOCOL]`);
    return { from: Number(m[1]), to: Number(m[2] ?? m[1]), proto: m[3] ?? 'tcp' };
  });
  return (port, proto) => wanted.some((w) => port >= w.from && port <= w.to && proto === w.proto);
}

export async function listContainers(engine: Engine, q: URLSearchParams): Promise<Array<Record<string, unknown>>> {
  const f = parseFilters(q, FILTERS);
  for (const s of f.status ?? []) if (!STATUSES.includes(s)) throw badRequest(`invalid filter 'status=${s}'`);
  for (const h of f.health ?? []) if (!['starting', 'healthy', 'unhealthy', 'none'].includes(h)) throw badRequest(`invalid filter 'health=${h}'`);
  const labels = labelFilter(f.label);
  const all = boolParam(q, 'all') || (f.status?.length ?? 0) > 0 || (f.exited?.length ?? 0) > 0;
  const rows = await engine.containers.list({ all: true, ...(labels ? { labels } : {}) });
  const names = regexps(f.name, 'name');
  const published = portFilter(f.publish);
  const exposed = portFilter(f.expose);
  const created = (ref: string) => {
    const c = rows.find((r) => r.id.startsWith(ref) || r.name === ref.replace(/^\//, ''));
    if (!c) throw badRequest(`no such container: ${ref}`);
    return c.created;
  };
  const before = f.before?.[0] !== undefined ? created(f.before[0]) : undefined;
  const since = f.since?.[0] !== undefined ? created(f.since[0]) : undefined;
  const imageIds = f.ancestor?.length ? await ancestorIds(engine, f.ancestor) : undefined;
  const wanted = (c: ContainerSummary): boolean => {
    if (!all && c.state !== 'running' && c.state !== 'paused' && c.state !== 'restarting') return false;
    if (f.id?.length && !f.id.some((id) => c.id.startsWith(id))) return false;
    if (names && !names.some((re) => re.test(`/${c.name}`))) return false;
    if (f.status?.length && !f.status.includes(c.state)) return false;
    if (f.exited?.length && !(c.state === 'exited' && f.exited.includes(String(c.exitCode ?? 0)))) return false;
    if (imageIds && !(imageIds.has(c.imageId) || f.ancestor!.includes(c.image))) return false;
    if (f.network?.length && !Object.entries(c.networks).some(([name, n]) => f.network!.includes(name) || f.network!.some((x) => x.length >= 12 && n.networkId.startsWith(x)))) return false;
    if (f.health?.length && !f.health.includes(c.health ?? 'none')) return false;
    if (f.volume?.length && !c.mounts.some((m) => f.volume!.includes(m.name ?? '') || f.volume!.includes(m.target))) return false;
    if (published && !c.ports.some((p) => p.hostPort !== undefined && published(p.hostPort, p.protocol))) return false;
    if (exposed && !c.ports.some((p) => exposed(p.target, p.protocol))) return false;
    if (before !== undefined && !(c.created < before)) return false;
    if (since !== undefined && !(c.created > since)) return false;
    if (f['is-task']?.includes('true')) return false;
    return true;
  };
  let out = rows.filter(wanted).sort((a, b) => b.created - a.created);
  const limit = intParam(q, 'limit');
  if (limit !== undefined && limit > 0) out = out.slice(0, limit);
  return out.map((c) => containerJson(c));
}

/** The ids of the images an `ancestor` filter names (by reference or id). */
async function ancestorIds(engine: Engine, refs: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const r of refs) {
    const img = await engine.images.inspect(r);
    if (img) out.add(img.id);
  }
  return out;
}
