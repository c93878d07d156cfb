import { route, type Call, type Route } from './router.js';
import { ApiError, badRequest, boolParam, labelFilter, parseFilters, readJson, sendJson, sendNoContent } from './http.js';
import { Fields } from './body.js';
import { compareVersions } from './router.js';
import { volumeJson } from './json.js';

/** The volume endpoints: the Engine's local volumes, in Docker's shapes and with its errors. */

async function list(c: Call): Promise<void> {
  const f = parseFilters(c.query, ['name', 'label', 'driver', 'dangling']);
  const labels = labelFilter(f.label);
  const dangling = f.dangling?.length ? ['true', '1'].includes(f.dangling[0]!) : undefined;
  const vols = (await c.ctx.engine.volumes.list({ ...(labels ? { labels } : {}), ...(dangling !== undefined ? { dangling } : {}) }))
    .filter((v) => !f.name?.length || f.name.some((n) => v.name.includes(n)))
    .filter((v) => !f.driver?.length || f.driver.includes(v.driver));
  sendJson(c.res!, 200, { Volumes: vols.map(volumeJson), Warnings: [] });
}

async function create(c: Call): Promise<void> {
  const f = new Fields(await readJson(c.req, 'volume config'), '', ['Name', 'Driver', 'DriverOpts', 'Labels', 'ClusterVolumeSpec']);
  f.refuse('ClusterVolumeSpec', 'cluster volumes are for swarm');
  const driver = f.text('Driver') ?? 'local';
  if (driver !== 'local') throw badRequest(`volume driver "${driver}" is not supported by the native engine: use local`);
  const v = await c.ctx.engine.volumes.create({ ...(f.text('Name') ? { name: f.text('Name')! } : {}), driver, driverOpts: f.map('DriverOpts') ?? {}, labels: f.map('Labels') ?? {} });
  sendJson(c.res!, 201, volumeJson(v));
}

async function inspect(c: Call): Promise<void> {
  const v = await c.ctx.engine.volumes.inspect(c.params[0]!);
  if (!v) throw new ApiError(404, `get ${c.params[0]}: no such volume`);
  sendJson(c.res!, 200, volumeJson(v));
}

async function remove(c: Call): Promise<void> {
  const name = c.params[0]!;
  const force = boolParam(c.query, 'force');
  if (!force && !(await c.ctx.engine.volumes.inspect(name))) throw new ApiError(404, `get ${name}: no such volume`);
  await c.ctx.engine.volumes.remove(name, force);
  sendNoContent(c.res!);
}

/** Before API 1.42 a prune removes every unused volume; from 1.42 the anonymous ones unless `all=true`. */
async function prune(c: Call): Promise<void> {
  const f = parseFilters(c.query, ['label', 'all']);
  const labels = labelFilter(f.label);
  const all = compareVersions(c.version, '1.42') < 0 || f.all?.includes('true') === true;
  const r = await c.ctx.engine.volumes.prune({ all, ...(labels ? { labels } : {}) });
  sendJson(c.res!, 200, { VolumesDeleted: r.removed.length ? r.removed : null, SpaceReclaimed: r.reclaimedBytes });
}

export const volumeRoutes: Route[] = [
  route('GET', '/volumes', list),
  route('POST', '/volumes/create', create),
  route('POST', '/volumes/prune', prune),
  route('GET', '/volumes/{name}', inspect),
  route('DELETE', '/volumes/{name}', remove),
];
