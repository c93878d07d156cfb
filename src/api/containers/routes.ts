import type { PortMapping, PortProtocol, Resources } from '../../engine/types.js';
import { ConflictError, NotFoundError } from '../../util/errors.js';
import { route, type Call, type Route } from '../router.js';
import { badRequest, boolParam, intParam, labelFilter, parseFilters, readJson, sendJson, sendNoContent } from '../http.js';
import { Fields } from '../body.js';
import { writableLayerSize } from '../disk-usage.js';
import { parseCreateBody } from './create-body.js';
import { listContainers } from './list.js';
import { attach, logs, resize, wait } from './io.js';
import { execCreate, execInspect, execResize, execStart } from './exec.js';
import { archiveGet, archiveHead, archivePut } from './archive.js';
import { stats } from './stats.js';

/**
 * The container endpoints: create, the lifecycle verbs, inspect, list,
 * rename, update, top, prune, and (in their own files) the streams, exec,
 * the archive API and stats. Each is one Engine call, or a few.
 */

async function details(c: Call, ref = c.params[0]!) {
  const d = await c.ctx.engine.containers.inspect(ref);
  if (!d) throw new NotFoundError('container', ref);
  return d;
}

async function create(c: Call): Promise<void> {
  const name = c.query.get('name') || undefined;
  if (name !== undefined && !/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) {
    throw badRequest(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  const { request, publishAll } = parseCreateBody(await readJson(c.req, 'container config'), name?.replace(/^\//, ''));
  const { engine } = c.ctx;
  if (publishAll) {
    const image = await engine.images.inspect(request.image);
    if (!image) throw new NotFoundError('image', request.image);
    const asked = new Set((request.ports ?? []).map((p) => `${p.target}/${p.protocol}`));
    const extra: PortMapping[] = [];
    for (const e of new Set([...image.config.exposedPorts, ...(request.exposedPorts ?? [])])) {
      const [port, proto = 'tcp'] = e.split('/');
      if (!asked.has(`${port}/${proto}`)) extra.push({ target: Number(port), protocol: proto as PortProtocol });
    }
    request.ports = [...(request.ports ?? []), ...extra];
  }
  const r = await engine.containers.create(request);
  sendJson(c.res!, 201, { Id: r.id, Warnings: r.warnings });
}

async function inspect(c: Call): Promise<void> {
  const raw = await c.ctx.engine.containers.inspectRaw(c.params[0]!);
  if (!raw) throw new NotFoundError('container', c.params[0]!);
  const execIds = c.ctx.execs.ofContainer(raw.Id as string);
  const out: Record<string, unknown> = { ...raw, ExecIDs: execIds.length ? execIds : null };
  if (boolParam(c.query, 'size')) {
    out.SizeRw = await writableLayerSize(raw);
    out.SizeRootFs = out.SizeRw as number + ((await c.ctx.engine.images.inspect(raw.Image as string))?.size ?? 0);
  }
  sendJson(c.res!, 200, out);
}

async function start(c: Call): Promise<void> {
  const len = Number(c.req.headers['content-length'] ?? 0);
  if (len > 7 || c.req.headers['transfer-encoding']) throw badRequest('starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24');
  const d = await details(c);
  if (d.state === 'running') return sendNoContent(c.res!, 304);
  await c.ctx.engine.containers.start(d.id);
  sendNoContent(c.res!);
}

function timeoutParam(c: Call): number | undefined {
  const t = intParam(c.query, 't');
  if (t !== undefined && t < -1) throw badRequest(`invalid value for t: ${t}`);
  return t === -1 ? 1_000_000 : t;
}

async function stop(c: Call): Promise<void> {
  const d = await details(c);
  if (d.state !== 'running' && d.state !== 'paused' && d.state !== 'restarting') return sendNoContent(c.res!, 304);
  await c.ctx.engine.containers.stop(d.id, timeoutParam(c), c.query.get('signal') || undefined);
  sendNoContent(c.res!);
}

async function restart(c: Call): Promise<void> {
  const d = await details(c);
  await c.ctx.engine.containers.restart(d.id, timeoutParam(c), c.query.get('signal') || undefined);
  sendNoContent(c.res!);
}

async function kill(c: Call): Promise<void> {
  const d = await details(c);
  const signal = c.query.get('signal') || 'SIGKILL';
  if (!/^(SIG)?[A-Z0-9+-]+$|^\d+$/i.test(signal)) throw badRequest(`Invalid signal: ${signal}`);
  await c.ctx.engine.containers.kill(d.id, signal);
  sendNoContent(c.res!);
}

async function remove(c: Call): Promise<void> {
  if (boolParam(c.query, 'link')) throw badRequest('legacy links cannot be removed from the native engine\'s containers: remove the container instead');
  const d = await details(c);
  await c.ctx.engine.containers.remove(d.id, { force: boolParam(c.query, 'force'), volumes: boolParam(c.query, 'v') });
  sendNoContent(c.res!);
}

async function rename(c: Call): Promise<void> {
  const name = c.query.get('name');
  if (!name) throw badRequest('Neither old nor new names may be empty');
  if (!/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) throw badRequest(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  const d = await details(c);
  await c.ctx.engine.containers.rename(d.id, name.replace(/^\//, ''));
  sendNoContent(c.res!);
}

const UPDATE = [
  'CpuShares', 'Memory', 'NanoCpus', 'CgroupParent', 'BlkioWeight', 'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps',
  'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems',
  'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'KernelMemory', 'KernelMemoryTCP', 'MemoryReservation', 'MemorySwap', 'MemorySwappiness',
  'OomKillDisable', 'PidsLimit', 'Ulimits', 'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth', 'RestartPolicy',
];

/** `docker update`: new limits for the container's cgroup (applied at once when it runs) and a new restart policy. */
async function update(c: Call): Promise<void> {
  const f = new Fields(await readJson(c.req, 'update config'), '', UPDATE);
  for (const k of ['CgroupParent', 'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps',
    'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'KernelMemory', 'KernelMemoryTCP', 'MemorySwappiness',
    'OomKillDisable', 'Ulimits', 'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth']) {
    f.refuse(k, 'it cannot be changed on a container of the native engine');
  }
  const resources: Resources = {};
  const set = <K extends keyof Resources>(k: K, v: Resources[K] | undefined) => {
    if (v !== undefined) resources[k] = v;
  };
  set('memory', f.count('Memory'));
  set('memoryReservation', f.count('MemoryReservation'));
  set('memorySwap', f.count('MemorySwap'));
  set('nanoCpus', f.count('NanoCpus'));
  set('cpuShares', f.count('CpuShares'));
  set('cpuPeriod', f.count('CpuPeriod'));
  set('cpuQuota', f.count('CpuQuota'));
  set('cpusetCpus', f.text('CpusetCpus'));
  set('cpusetMems', f.text('CpusetMems'));
  set('pidsLimit', f.count('PidsLimit'));
  set('blkioWeight', f.count('BlkioWeight'));
  const r = f.sub('RestartPolicy', ['Name', 'MaximumRetryCount']);
  const name = r?.text('Name');
  if (name !== undefined && !['no', 'always', 'on-failure', 'unless-stopped'].includes(name)) throw badRequest(`invalid restart policy '${name}'`);
  const d = await details(c);
  const result = await c.ctx.engine.containers.update(d.id, {
    ...(Object.keys(resources).length ? { resources } : {}),
    ...(name !== undefined ? { restart: { name: name as 'no', ...(r?.count('MaximumRetryCount') ? { maxRetries: r.num('MaximumRetryCount')! } : {}) } } : {}),
  });
  sendJson(c.res!, 200, { Warnings: result.warnings });
}

async function top(c: Call): Promise<void> {
  const d = await details(c);
  if (d.state !== 'running') throw new ConflictError(`Container ${d.id} is not running`);
  const r = await c.ctx.engine.containers.top(d.id, c.query.get('ps_args') || undefined);
  sendJson(c.res!, 200, { Titles: r.titles, Processes: r.processes });
}

async function prune(c: Call): Promise<void> {
  const f = parseFilters(c.query, ['label', 'label!', 'until']);
  const labels = labelFilter(f.label);
  const until = f.until?.[0] !== undefined ? Date.parse(f.until[0]) || Number(f.until[0]) * 1000 : undefined;
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const s of await c.ctx.engine.containers.list({ all: true, ...(labels ? { labels } : {}) })) {
    if (s.state === 'running' || s.state === 'paused' || s.state === 'restarting') continue;
    if (until !== undefined && s.created >= until) continue;
    if (f['label!']?.some((l) => (l.includes('=') ? s.labels[l.split('=')[0]!] === l.split('=').slice(1).join('=') : l in s.labels))) continue;
    reclaimed += await writableLayerSize(await c.ctx.engine.containers.inspectRaw(s.id));
    try {
      await c.ctx.engine.containers.remove(s.id, { volumes: false });
      deleted.push(s.id);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  sendJson(c.res!, 200, { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
}

export const containerRoutes: Route[] = [
  route('GET', '/containers/json', async (c) => sendJson(c.res!, 200, await listContainers(c.ctx.engine, c.query))),
  route('POST', '/containers/create', create),
  route('POST', '/containers/prune', prune),
  route('GET', '/containers/{id}/json', inspect),
  route('POST', '/containers/{id}/start', start),
  route('POST', '/containers/{id}/stop', stop),
  route('POST', '/containers/{id}/restart', restart),
  route('POST', '/containers/{id}/kill', kill),
  route('POST', '/containers/{id}/pause', async (c) => sendNoContent(c.res!, (await c.ctx.engine.containers.pause((await details(c)).id), 204))),
  route('POST', '/containers/{id}/unpause', async (c) => sendNoContent(c.res!, (await c.ctx.engine.containers.unpause((await details(c)).id), 204))),
  route('POST', '/containers/{id}/rename', rename),
  route('POST', '/containers/{id}/update', update),
  route('POST', '/containers/{id}/wait', wait),
  route('POST', '/containers/{id}/resize', resize),
  route('POST', '/containers/{id}/attach', attach, true),
  route('GET', '/containers/{id}/logs', logs),
  route('GET', '/containers/{id}/top', top),
  route('GET', '/containers/{id}/stats', stats),
  route('HEAD', '/containers/{id}/archive', archiveHead),
  route('GET', '/containers/{id}/archive', archiveGet),
  route('PUT', '/containers/{id}/archive', archivePut),
  route('DELETE', '/containers/{id}', remove),
  route('POST', '/containers/{id}/exec', execCreate),
  route('POST', '/exec/{id}/start', execStart, true),
  route('POST', '/exec/{id}/resize', execResize),
  route('GET', '/exec/{id}/json', execInspect),
];
