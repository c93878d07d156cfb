import { isIP } from 'node:net';
import type { DependencyCondition, LoggingConfig, ServiceConfig, ServiceDependency, ServiceNetworkConfig, ServiceProviderConfig } from '../types.js';
import { assignDefined, extensionsOf, isObj, keyValues, scalarString, stringList, type At, type Obj } from './context.js';
import { extraHosts } from './hosts.js';
import { normalizeDevices, normalizeExpose, normalizeFileRefs, normalizePorts, normalizeVolumes } from './mounts.js';
import {
  normalizeBlkio,
  normalizeBuild,
  normalizeCommand,
  normalizeDeploy,
  normalizeDeviceRequests,
  normalizeDevelop,
  normalizeHealthcheck,
  normalizeHooks,
  normalizeUlimits,
} from './runtime.js';

/**
 * One service, schema-valid, to its long form (ServiceConfig). Values the
 * schema cannot judge (port strings, durations, sizes, IPs, restart policies)
 * are checked here and reported where they were written.
 */
export function normalizeService(name: string, raw: Obj, at: At): ServiceConfig {
  const str = (k: string) => (raw[k] === undefined || raw[k] === null ? undefined : scalarString(raw[k]));
  const num = (k: string, what: 'number' | 'integer' = 'number') => at.child(k).number(raw[k], what);
  const bool = (k: string) => at.child(k).bool(raw[k]);
  const s: ServiceConfig = {
    name,
    profiles: stringList(raw.profiles),
    annotations: keyValues(raw.annotations, ''),
    cap_add: stringList(raw.cap_add),
    cap_drop: stringList(raw.cap_drop),
    command: normalizeCommand(raw.command, at.child('command')),
    configs: normalizeFileRefs(raw.configs, at.child('configs')),
    depends_on: dependsOn(raw.depends_on, at.child('depends_on')),
    device_cgroup_rules: stringList(raw.device_cgroup_rules),
    devices: normalizeDevices(raw.devices, at.child('devices')),
    dns: stringList(raw.dns).filter((d) => d !== ''),
    dns_opt: stringList(raw.dns_opt),
    dns_search: stringList(raw.dns_search).filter((d) => d !== ''),
    entrypoint: normalizeCommand(raw.entrypoint, at.child('entrypoint')),
    environment: keyValues(raw.environment, null),
    env_file: [],
    expose: normalizeExpose(raw.expose, at.child('expose')),
    external_links: stringList(raw.external_links),
    extra_hosts: extraHosts(raw.extra_hosts, at.child('extra_hosts')),
    group_add: stringList(raw.group_add),
    gpus: normalizeDeviceRequests(raw.gpus, at.child('gpus')),
    labels: keyValues(raw.labels, ''),
    label_file: stringList(raw.label_file).map((f) => at.child('label_file').absPath(f)),
    links: stringList(raw.links),
    models: serviceModels(raw.models),
    networks: serviceNetworks(raw.networks, at.child('networks')),
    oom_kill_disable: bool('oom_kill_disable') ?? false,
    ports: normalizePorts(raw.ports, at.child('ports')),
    post_start: normalizeHooks(raw.post_start, at.child('post_start')),
    pre_start: normalizeHooks(raw.pre_start, at.child('pre_start'), str('image')),
    pre_stop: normalizeHooks(raw.pre_stop, at.child('pre_stop')),
    privileged: bool('privileged') ?? false,
    read_only: bool('read_only') ?? false,
    secrets: normalizeFileRefs(raw.secrets, at.child('secrets'), '/run/secrets'),
    security_opt: stringList(raw.security_opt),
    stdin_open: bool('stdin_open') ?? false,
    storage_opt: keyValues(raw.storage_opt, ''),
    sysctls: keyValues(raw.sysctls, ''),
    tmpfs: stringList(raw.tmpfs),
    tty: bool('tty') ?? false,
    ulimits: normalizeUlimits(raw.ulimits, at.child('ulimits')),
    use_api_socket: bool('use_api_socket') ?? false,
    volumes: normalizeVolumes(raw.volumes, at.child('volumes')),
    volumes_from: stringList(raw.volumes_from),
  };
  s.env_file = envFiles(raw.env_file, at.child('env_file'));
  assignDefined(s, {
    attach: bool('attach'),
    build: normalizeBuild(raw.build, at.child('build')),
    develop: normalizeDevelop(raw.develop, at.child('develop')),
    blkio_config: normalizeBlkio(raw.blkio_config, at.child('blkio_config')),
    cgroup: raw.cgroup as ServiceConfig['cgroup'],
    cgroup_parent: str('cgroup_parent'),
    cpu_count: num('cpu_count', 'integer'),
    cpu_percent: num('cpu_percent'),
    cpu_period: num('cpu_period', 'integer'),
    cpu_quota: num('cpu_quota', 'integer'),
    cpu_rt_period: num('cpu_rt_period', 'integer'),
    cpu_rt_runtime: num('cpu_rt_runtime', 'integer'),
    cpus: num('cpus'),
    cpuset: str('cpuset'),
    cpu_shares: num('cpu_shares', 'integer'),
    container_name: str('container_name'),
    credential_spec: isObj(raw.credential_spec) ? (raw.credential_spec as ServiceConfig['credential_spec']) : undefined,
    deploy: normalizeDeploy(raw.deploy, at.child('deploy')),
    domainname: str('domainname'),
    hostname: str('hostname'),
    healthcheck: normalizeHealthcheck(raw.healthcheck, at.child('healthcheck')),
    image: str('image'),
    init: bool('init'),
    ipc: str('ipc'),
    isolation: str('isolation'),
    logging: isObj(raw.logging)
      ? assignDefined<LoggingConfig>({ options: keyValues(raw.logging.options ?? {}, ''), ...extensionsOf(raw.logging) }, { driver: raw.logging.driver as string | undefined })
      : undefined,
    mac_address: str('mac_address'),
    mem_limit: at.child('mem_limit').bytes(raw.mem_limit),
    mem_reservation: at.child('mem_reservation').bytes(raw.mem_reservation),
    memswap_limit: raw.memswap_limit === -1 || raw.memswap_limit === '-1' ? -1 : at.child('memswap_limit').bytes(raw.memswap_limit),
    mem_swappiness: num('mem_swappiness', 'integer'),
    network_mode: str('network_mode'),
    oom_score_adj: num('oom_score_adj', 'integer'),
    pid: str('pid'),
    pids_limit: num('pids_limit', 'integer'),
    platform: str('platform'),
    provider: provider(raw.provider),
    pull_refresh_after: str('pull_refresh_after'),
    pull_policy: (str('pull_policy') === 'if_not_present' ? 'missing' : str('pull_policy')) as ServiceConfig['pull_policy'],
    restart: restartPolicy(str('restart'), at.child('restart')),
    runtime: str('runtime'),
    scale: num('scale', 'integer'),
    shm_size: at.child('shm_size').bytes(raw.shm_size),
    stop_grace_period: at.child('stop_grace_period').duration(raw.stop_grace_period),
    stop_signal: str('stop_signal'),
    user: str('user'),
    userns_mode: str('userns_mode'),
    uts: str('uts'),
    working_dir: str('working_dir'),
  });
  if (s.scale !== undefined && s.scale < 0) at.child('scale').error(`scale must be 0 or more, not ${s.scale}`);
  // One place for the replica count: `scale`, else deploy.replicas (the consistency check rejects different values).
  if (s.scale === undefined && s.deploy?.replicas !== undefined) s.scale = s.deploy.replicas;
  if (s.network_mode === undefined && s.provider === undefined && Object.keys(s.networks).length === 0) s.networks = { default: null };
  addImplicitDependencies(s);
  return Object.assign(s, extensionsOf(raw));
}

function dependsOn(v: unknown, at: At): Record<string, ServiceDependency> {
  const out: Record<string, ServiceDependency> = {};
  if (Array.isArray(v)) {
    for (const name of v) out[scalarString(name)] = { condition: 'service_started', required: true, restart: false };
  } else if (isObj(v)) {
    for (const [name, d] of Object.entries(v)) {
      if (!isObj(d)) continue;
      out[name] = {
        condition: d.condition as DependencyCondition,
        required: at.child(name, 'required').bool(d.required) ?? true,
        restart: at.child(name, 'restart').bool(d.restart) ?? false,
        ...extensionsOf(d),
      };
    }
  }
  return out;
}

/** links, `service:x` namespaces and volumes_from are dependencies too (compose-go normalize.go). */
function addImplicitDependencies(s: ServiceConfig): void {
  const add = (name: string, restart: boolean) => {
    if (name !== '' && !(name in s.depends_on)) s.depends_on[name] = { condition: 'service_started', required: true, restart };
  };
  for (const link of s.links) add(link.split(':')[0]!, true);
  for (const ns of [s.network_mode, s.ipc, s.pid, s.uts, s.cgroup]) if (ns?.startsWith('service:')) add(ns.slice('service:'.length), true);
  for (const from of s.volumes_from) if (!from.startsWith('container:')) add(from.split(':')[0]!, false);
}

function serviceNetworks(v: unknown, at: At): Record<string, ServiceNetworkConfig | null> {
  const out: Record<string, ServiceNetworkConfig | null> = {};
  if (Array.isArray(v)) {
    for (const n of v) out[scalarString(n)] = null;
  } else if (isObj(v)) {
    for (const [name, cfg] of Object.entries(v)) {
      if (!isObj(cfg)) {
        out[name] = null;
        continue;
      }
      const here = at.child(name);
      const n: ServiceNetworkConfig = { ...extensionsOf(cfg) };
      for (const key of ['ipv4_address', 'ipv6_address'] as const) {
        if (cfg[key] === undefined) continue;
        const ip = String(cfg[key]);
        if (isIP(ip) !== (key === 'ipv4_address' ? 4 : 6)) here.child(key).error(`${key}: "${ip}" is not an IPv${key === 'ipv4_address' ? 4 : 6} address`);
        n[key] = ip;
      }
      assignDefined(n, {
        aliases: cfg.aliases === undefined ? undefined : stringList(cfg.aliases),
        driver_opts: cfg.driver_opts === undefined ? undefined : keyValues(cfg.driver_opts, ''),
        gw_priority: here.child('gw_priority').number(cfg.gw_priority, 'integer'),
        interface_name: cfg.interface_name as string | undefined,
        link_local_ips: cfg.link_local_ips === undefined ? undefined : stringList(cfg.link_local_ips),
        mac_address: cfg.mac_address as string | undefined,
        priority: here.child('priority').number(cfg.priority, 'integer'),
      });
      out[name] = Object.keys(n).length ? n : {};
    }
  }
  return out;
}

function serviceModels(v: unknown): ServiceConfig['models'] {
  const out: ServiceConfig['models'] = {};
  if (Array.isArray(v)) for (const m of v) out[scalarString(m)] = null;
  else if (isObj(v)) for (const [k, m] of Object.entries(v)) out[k] = isObj(m) ? (m as ServiceConfig['models'][string]) : null;
  return out;
}

function envFiles(v: unknown, at: At): ServiceConfig['env_file'] {
  if (v === undefined || v === null) return [];
  const items = Array.isArray(v) ? v : [v];
  return items.map((item, i) => {
    const here = Array.isArray(v) ? at.child(i) : at;
    if (isObj(item)) {
      const f: ServiceConfig['env_file'][number] = {
        path: here.child('path').absPath(String(item.path)),
        required: here.child('required').bool(item.required) ?? true,
      };
      if (item.format !== undefined) f.format = String(item.format);
      return f;
    }
    return { path: here.absPath(scalarString(item)), required: true };
  });
}

function provider(v: unknown): ServiceProviderConfig | undefined {
  if (!isObj(v)) return undefined;
  const options: Record<string, string[]> = {};
  for (const [k, o] of Object.entries(isObj(v.options) ? v.options : {})) options[k] = Array.isArray(o) ? o.map(scalarString) : [scalarString(o)];
  return { type: String(v.type), options, ...extensionsOf(v) };
}

const RESTART_RE = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;

function restartPolicy(v: string | undefined, at: At): ServiceConfig['restart'] {
  if (v === undefined) return undefined;
  if (!RESTART_RE.test(v)) {
    at.error(`restart must be no, always, on-failure[:max-retries] or unless-stopped, not "${v}"`);
    return undefined;
  }
  return v as ServiceConfig['restart'];
}
