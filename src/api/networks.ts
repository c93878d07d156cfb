import { createHash } from 'node:crypto';
import type { IpamPool, NetworkSummary } from '../engine/types.js';
import { NotFoundError } from '../util/errors.js';
import { route, type Call, type Route } from './router.js';
import { ApiError, badRequest, labelFilter, parseFilters, readJson, sendJson, sendNoContent } from './http.js';
import { Fields, items } from './body.js';
import { ENDPOINT, endpoint } from './containers/create-body.js';

/**
 * The network endpoints. Besides the Engine's bridge networks, `host` and
 * `none` are listed as dockerd lists them (what NetworkMode host/none
 * names); they cannot be removed, as on dockerd.
 */

const PREDEFINED: Record<string, string> = { host: 'host', none: 'null' };

function predefined(name: string): Record<string, unknown> {
  return {
    Name: name, Id: createHash('sha256').update(`tscompose predefined network ${name}`).digest('hex'), Created: new Date(0).toISOString(), Scope: 'local', Driver: PREDEFINED[name], EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' },
    ConfigOnly: false, Containers: {}, Options: {}, Labels: {},
  };
}

async function inspectJson(c: Call, ref: string): Promise<Record<string, unknown>> {
  const raw = await c.ctx.engine.networks.inspectRaw(ref);
  if (raw) return raw;
  const pre = Object.keys(PREDEFINED).find((n) => n === ref || predefined(n).Id === ref);
  if (pre) return predefined(pre);
  throw new ApiError(404, `network ${ref} not found`);
}

const FILTERS = ['name', 'id', 'label', 'driver', 'type', 'scope', 'dangling'];

async function list(c: Call): Promise<void> {
  const f = parseFilters(c.query, FILTERS);
  const labels = labelFilter(f.label);
  const nets: Array<Pick<NetworkSummary, 'id' | 'name' | 'driver'> & { builtin: boolean }> = (await c.ctx.engine.networks.list(labels ? { labels } : {}))
    .map((n) => ({ ...n, builtin: n.name === 'bridge' }));
  if (!labels) for (const name of Object.keys(PREDEFINED)) nets.push({ id: predefined(name).Id as string, name, driver: PREDEFINED[name]!, builtin: true });
  const out: Array<Record<string, unknown>> = [];
  for (const n of nets) {
    if (f.name?.length && !f.name.some((x) => n.name.includes(x))) continue;
    if (f.id?.length && !f.id.some((x) => n.id.startsWith(x))) continue;
    if (f.driver?.length && !f.driver.includes(n.driver)) continue;
    if (f.type?.length && !f.type.includes(n.builtin ? 'builtin' : 'custom')) continue;
    if (f.scope?.length && !f.scope.includes('local')) continue;
    const json = await inspectJson(c, n.id).catch(() => undefined);
    if (!json) continue;
    if (f.dangling?.length) {
      const unused = Object.keys((json.Containers as object | undefined) ?? {}).length === 0 && !n.builtin;
      if (f.dangling.includes('true') !== unused) continue;
    }
    out.push({ ...json, Containers: {} });
  }
  sendJson(c.res!, 200, out);
}

const CREATE = ['Name', 'CheckDuplicate', 'Driver', 'Scope', 'Internal', 'Attachable', 'Ingress', 'IPAM', 'EnableIPv6', 'EnableIPv4', 'Options', 'Labels', 'ConfigOnly', 'ConfigFrom'];

async function create(c: Call): Promise<void> {
  const f = new Fields(await readJson(c.req, 'network config'), '', CREATE);
  const name = f.text('Name');
  if (!name) throw badRequest('network name is empty: give Name');
  if (name in PREDEFINED) throw new ApiError(409, `network with name ${name} already exists`);
  const driver = f.text('Driver') ?? 'bridge';
  if (driver !== 'bridge') throw badRequest(`network driver "${driver}" is not supported by the native engine: use bridge`);
  f.refuse('Ingress', 'there is no swarm');
  f.refuse('ConfigOnly', 'config-only networks are for swarm');
  f.refuse('ConfigFrom', 'config-only networks are for swarm');
  f.refuse('Scope', 'networks are local', ['local']);
  if (f.bool('EnableIPv6')) throw badRequest('EnableIPv6 is not supported by the native engine yet');
  const ipam = f.sub('IPAM', ['Driver', 'Config', 'Options']);
  const pools: IpamPool[] = ipam ? items(ipam, 'Config', ['Subnet', 'IPRange', 'Gateway', 'AuxiliaryAddresses', 'AuxAddress']).map((p) => ({
    ...(p.text('Subnet') ? { subnet: p.text('Subnet')! } : {}),
    ...(p.text('IPRange') ? { ipRange: p.text('IPRange')! } : {}),
    ...(p.text('Gateway') ? { gateway: p.text('Gateway')! } : {}),
    ...(p.map('AuxiliaryAddresses') ?? p.map('AuxAddress') ? { auxAddresses: (p.map('AuxiliaryAddresses') ?? p.map('AuxAddress'))! } : {}),
  })) : [];
  const r = await c.ctx.engine.networks.create({
    name,
    driver,
    labels: f.map('Labels') ?? {},
    driverOpts: f.map('Options') ?? {},
    internal: f.bool('Internal') ?? false,
    attachable: f.bool('Attachable') ?? false,
    ...(ipam ? { ipam: { ...(ipam.text('Driver') ? { driver: ipam.text('Driver')! } : {}), config: pools, options: ipam.map('Options') ?? {} } } : {}),
  });
  sendJson(c.res!, 201, { Id: r.id, Warning: '' });
}

async function remove(c: Call): Promise<void> {
  const ref = c.params[0]!;
  if (ref in PREDEFINED) throw new ApiError(403, `${ref} is a pre-defined network and cannot be removed`);
  if (!(await c.ctx.engine.networks.inspectRaw(ref))) throw new ApiError(404, `network ${ref} not found`);
  await c.ctx.engine.networks.remove(ref);
  sendNoContent(c.res!);
}

async function containerOf(c: Call, f: Fields): Promise<string> {
  const ref = f.text('Container');
  if (!ref) throw badRequest('Container is empty: give the container to connect');
  if (!(await c.ctx.engine.containers.inspect(ref))) throw new NotFoundError('container', ref);
  return ref;
}

async function connect(c: Call): Promise<void> {
  const f = new Fields(await readJson(c.req, 'connect request'), '', ['Container', 'EndpointConfig']);
  const container = await containerOf(c, f);
  const net = await inspectJson(c, c.params[0]!);
  if (net.Name as string in PREDEFINED) throw badRequest(`container cannot be connected to the ${net.Name} network: give NetworkMode at create instead`);
  const ep = f.sub('EndpointConfig', ENDPOINT);
  const { network: _n, ...attachment } = endpoint(net.Name as string, ep ?? new Fields({}, 'EndpointConfig', ENDPOINT));
  await c.ctx.engine.networks.connect(net.Name as string, container, attachment);
  c.res!.writeHead(200);
  c.res!.end();
}

async function disconnect(c: Call): Promise<void> {
  const f = new Fields(await readJson(c.req, 'disconnect request'), '', ['Container', 'Force']);
  const container = await containerOf(c, f);
  const net = await inspectJson(c, c.params[0]!);
  await c.ctx.engine.networks.disconnect(net.Name as string, container, f.bool('Force') ?? false);
  c.res!.writeHead(200);
  c.res!.end();
}

async function prune(c: Call): Promise<void> {
  const f = parseFilters(c.query, ['label', 'until']);
  const labels = labelFilter(f.label);
  const removed = await c.ctx.engine.networks.prune(labels ? { labels } : {});
  sendJson(c.res!, 200, { NetworksDeleted: removed.length ? removed : null });
}

export const networkRoutes: Route[] = [
  route('GET', '/networks', list),
  route('POST', '/networks/create', create),
  route('POST', '/networks/prune', prune),
  route('GET', '/networks/{id}', async (c) => sendJson(c.res!, 200, await inspectJson(c, c.params[0]!))),
  route('DELETE', '/networks/{id}', remove),
  route('POST', '/networks/{id}/connect', connect),
  route('POST', '/networks/{id}/disconnect', disconnect),
];
