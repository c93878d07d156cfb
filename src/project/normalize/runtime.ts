import { splitShellWords, ShellWordsError } from '../syntax/shellwords.js';
import { extraHosts } from './hosts.js';
import type {
  BlkioConfig,
  BuildConfig,
  DeployConfig,
  DeviceRequest,
  DevelopConfig,
  HealthCheckConfig,
  Resource,
  RestartPolicy,
  ServiceHook,
  SSHKey,
  ThrottleDevice,
  UlimitConfig,
  UpdateConfig,
} from '../types.js';
import { assignDefined, extensionsOf, isObj, keyValues, scalarString, stringList, type At, type Obj } from './context.js';
import { normalizeFileRefs } from './mounts.js';

/** build, healthcheck, deploy, ulimits, hooks, develop and friends. */

/** command/entrypoint: null stays "the image's", a string is split like a shell would, "" clears. */
export function normalizeCommand(v: unknown, at: At): string[] | null {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return v.map(scalarString);
  try {
    return splitShellWords(scalarString(v));
  } catch (err) {
    if (!(err instanceof ShellWordsError)) throw err;
    at.error(err.message);
    return null;
  }
}

const REMOTE_CONTEXT = /^(https?:\/\/|git:\/\/|ssh:\/\/|github\.com\/|git@)/;

function contextPath(v: string, at: At): string {
  if (v.includes('://') || v.startsWith('service:') || REMOTE_CONTEXT.test(v)) return v;
  return at.absPath(v);
}

export function normalizeBuild(v: unknown, at: At): BuildConfig | undefined {
  if (v === undefined || v === null) return undefined;
  const o: Obj = isObj(v) ? v : { context: scalarString(v) };
  const b: BuildConfig = {
    context: contextPath(o.context === undefined ? '.' : String(o.context), at.child('context')),
    entitlements: stringList(o.entitlements),
    args: keyValues(o.args, null),
    ssh: sshKeys(o.ssh, at.child('ssh')),
    labels: keyValues(o.labels, ''),
    cache_from: stringList(o.cache_from),
    cache_to: stringList(o.cache_to),
    no_cache: at.child('no_cache').bool(o.no_cache) ?? false,
    no_cache_filter: stringList(o.no_cache_filter),
    additional_contexts: {},
    pull: at.child('pull').bool(o.pull) ?? false,
    extra_hosts: extraHosts(o.extra_hosts, at.child('extra_hosts')),
    secrets: normalizeFileRefs(o.secrets, at.child('secrets')),
    tags: stringList(o.tags),
    ulimits: normalizeUlimits(o.ulimits, at.child('ulimits')),
    platforms: stringList(o.platforms),
    privileged: at.child('privileged').bool(o.privileged) ?? false,
  };
  for (const [k, c] of Object.entries(keyValues(o.additional_contexts, ''))) b.additional_contexts[k] = contextPath(c, at.child('additional_contexts', k));
  if (o.dockerfile_inline !== undefined) b.dockerfile_inline = String(o.dockerfile_inline);
  if (o.dockerfile !== undefined) b.dockerfile = String(o.dockerfile);
  else if (o.dockerfile_inline === undefined) b.dockerfile = 'Dockerfile';
  assignDefined(b, {
    provenance: o.provenance === undefined ? undefined : String(o.provenance),
    sbom: o.sbom === undefined ? undefined : String(o.sbom),
    isolation: o.isolation as string | undefined,
    network: o.network as string | undefined,
    target: o.target as string | undefined,
    shm_size: at.child('shm_size').bytes(o.shm_size),
  });
  return Object.assign(b, extensionsOf(o));
}

function sshKeys(v: unknown, at: At): SSHKey[] {
  const out: SSHKey[] = [];
  for (const [id, path] of Object.entries(keyValues(v, null))) {
    out.push(path === null || path === '' ? { id } : { id, path: path.includes('/') || path.startsWith('.') ? at.child(id).absPath(path) : path });
  }
  return out;
}

export function normalizeHealthcheck(v: unknown, at: At): HealthCheckConfig | undefined {
  if (!isObj(v)) return undefined;
  let test: string[] = [];
  if (typeof v.test === 'string') test = ['CMD-SHELL', v.test];
  else if (Array.isArray(v.test)) test = v.test.map(scalarString);
  if (test.length > 0 && !['CMD', 'CMD-SHELL', 'NONE'].includes(test[0]!)) {
    at.child('test', 0).error(`healthcheck.test must start with "CMD", "CMD-SHELL" or "NONE" (or be a string, run with the shell), not ${JSON.stringify(test[0])}`);
  }
  const h: HealthCheckConfig = { test, disable: at.child('disable').bool(v.disable) ?? false };
  assignDefined(h, {
    timeout: at.child('timeout').duration(v.timeout),
    interval: at.child('interval').duration(v.interval),
    retries: at.child('retries').number(v.retries, 'integer'),
    start_period: at.child('start_period').duration(v.start_period),
    start_interval: at.child('start_interval').duration(v.start_interval),
  });
  return Object.assign(h, extensionsOf(v));
}

export function normalizeUlimits(v: unknown, at: At): Record<string, UlimitConfig> {
  const out: Record<string, UlimitConfig> = {};
  if (!isObj(v)) return out;
  for (const [name, limit] of Object.entries(v)) {
    const here = at.child(name);
    if (isObj(limit)) {
      const soft = here.child('soft').number(limit.soft, 'integer');
      const hard = here.child('hard').number(limit.hard, 'integer');
      if (soft === undefined || hard === undefined) continue;
      if (soft > hard && hard !== -1) here.error(`ulimit ${name}: the soft limit ${soft} is above the hard limit ${hard}`);
      out[name] = { soft, hard, ...extensionsOf(limit) };
    } else {
      const n = here.number(limit, 'integer');
      if (n !== undefined) out[name] = { soft: n, hard: n };
    }
  }
  return out;
}

export function normalizeHooks(v: unknown, at: At, image?: string): ServiceHook[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObj).map((h, i) => {
    const here = at.child(i);
    const hook: ServiceHook = {
      command: normalizeCommand(h.command, here.child('command')),
      privileged: here.child('privileged').bool(h.privileged) ?? false,
      environment: keyValues(h.environment, null),
    };
    assignDefined(hook, {
      image: (h.image as string | undefined) ?? image,
      user: h.user as string | undefined,
      working_dir: h.working_dir as string | undefined,
      per_replica: here.child('per_replica').bool(h.per_replica),
    });
    return Object.assign(hook, extensionsOf(h));
  });
}

export function normalizeDevelop(v: unknown, at: At): DevelopConfig | undefined {
  if (!isObj(v)) return undefined;
  const watch = (Array.isArray(v.watch) ? v.watch : []).filter(isObj).map((w, i) => {
    const here = at.child('watch', i);
    const t = { path: here.child('path').absPath(String(w.path)), action: w.action } as DevelopConfig['watch'][number];
    if (w.target !== undefined) t.target = String(w.target);
    else if (t.action !== 'rebuild' && t.action !== 'restart') here.error(`develop.watch: a ${String(t.action)} action needs a \`target\``);
    if (w.exec !== undefined) t.exec = normalizeHooks([w.exec], here.child('exec'))[0]!;
    if (w.include !== undefined) t.include = stringList(w.include);
    if (w.ignore !== undefined) t.ignore = stringList(w.ignore);
    if (w.initial_sync !== undefined) t.initial_sync = Boolean(w.initial_sync);
    return Object.assign(t, extensionsOf(w));
  });
  return { watch, ...extensionsOf(v) };
}

export function normalizeDeviceRequests(v: unknown, at: At): DeviceRequest[] {
  if (v === 'all') return [{ capabilities: ['gpu'], count: -1 }];
  if (!Array.isArray(v)) return [];
  return v.filter(isObj).map((d, i) => {
    const here = at.child(i);
    const r: DeviceRequest = { capabilities: stringList(d.capabilities) };
    if (d.count !== undefined && d.device_ids !== undefined) here.error('`count` and `device_ids` cannot both be set');
    assignDefined(r, {
      driver: d.driver as string | undefined,
      count: d.count === undefined ? undefined : String(d.count).toLowerCase() === 'all' ? -1 : here.child('count').number(d.count, 'integer'),
      device_ids: d.device_ids === undefined ? undefined : stringList(d.device_ids),
      options: d.options === undefined ? undefined : keyValues(d.options, ''),
    });
    return Object.assign(r, extensionsOf(d));
  });
}

function resource(v: unknown, at: At): Resource | undefined {
  if (!isObj(v)) return undefined;
  const r: Resource = { ...extensionsOf(v) };
  assignDefined(r, {
    cpus: at.child('cpus').number(v.cpus),
    memory: at.child('memory').bytes(v.memory),
    pids: at.child('pids').number(v.pids, 'integer'),
    devices: v.devices === undefined ? undefined : normalizeDeviceRequests(v.devices, at.child('devices')),
    generic_resources: Array.isArray(v.generic_resources) ? (v.generic_resources as Obj[]) : undefined,
  });
  return r;
}

function updateConfig(v: unknown, at: At): UpdateConfig | undefined {
  if (!isObj(v)) return undefined;
  const u: UpdateConfig = { ...extensionsOf(v) };
  return assignDefined(u, {
    parallelism: at.child('parallelism').number(v.parallelism, 'integer'),
    delay: at.child('delay').duration(v.delay),
    failure_action: v.failure_action as string | undefined,
    monitor: at.child('monitor').duration(v.monitor),
    max_failure_ratio: at.child('max_failure_ratio').number(v.max_failure_ratio),
    order: v.order as UpdateConfig['order'],
  });
}

export function normalizeDeploy(v: unknown, at: At): DeployConfig | undefined {
  if (!isObj(v)) return undefined;
  const res = isObj(v.resources) ? v.resources : {};
  const d: DeployConfig = {
    labels: keyValues(v.labels, ''),
    resources: { ...extensionsOf(res) },
    ...extensionsOf(v),
  };
  assignDefined(d.resources, { limits: resource(res.limits, at.child('resources', 'limits')), reservations: resource(res.reservations, at.child('resources', 'reservations')) });
  const rp = isObj(v.restart_policy) ? v.restart_policy : undefined;
  assignDefined(d, {
    mode: v.mode as string | undefined,
    replicas: at.child('replicas').number(v.replicas, 'integer'),
    update_config: updateConfig(v.update_config, at.child('update_config')),
    rollback_config: updateConfig(v.rollback_config, at.child('rollback_config')),
    restart_policy: rp
      ? assignDefined<RestartPolicy>(
          { ...extensionsOf(rp) },
          {
            condition: rp.condition as string | undefined,
            delay: at.child('restart_policy', 'delay').duration(rp.delay),
            max_attempts: at.child('restart_policy', 'max_attempts').number(rp.max_attempts, 'integer'),
            window: at.child('restart_policy', 'window').duration(rp.window),
          },
        )
      : undefined,
    placement: isObj(v.placement) ? (v.placement as DeployConfig['placement']) : undefined,
    endpoint_mode: v.endpoint_mode as string | undefined,
  });
  if (d.replicas !== undefined && d.replicas < 0) at.child('replicas').error(`deploy.replicas must be 0 or more, not ${d.replicas}`);
  return d;
}

export function normalizeBlkio(v: unknown, at: At): BlkioConfig | undefined {
  if (!isObj(v)) return undefined;
  const rates = (key: string, bytes: boolean): ThrottleDevice[] | undefined =>
    Array.isArray(v[key])
      ? (v[key] as Obj[]).map((r, i) => ({
          path: String(r.path),
          rate: (bytes ? at.child(key, i, 'rate').bytes(r.rate) : at.child(key, i, 'rate').number(r.rate, 'integer')) ?? 0,
        }))
      : undefined;
  const b: BlkioConfig = { ...extensionsOf(v) };
  return assignDefined(b, {
    weight: at.child('weight').number(v.weight, 'integer'),
    weight_device: Array.isArray(v.weight_device)
      ? (v.weight_device as Obj[]).map((w, i) => ({ path: String(w.path), weight: at.child('weight_device', i, 'weight').number(w.weight, 'integer') ?? 0 }))
      : undefined,
    device_read_bps: rates('device_read_bps', true),
    device_read_iops: rates('device_read_iops', false),
    device_write_bps: rates('device_write_bps', true),
    device_write_iops: rates('device_write_iops', false),
  });
}
