import { formatDuration } from './syntax/units.js';
import type { Project, ServiceConfig } from './types.js';

/**
 * The Project back to compose syntax, shaped like `docker compose config`:
 * name first, then services (sorted, keys in compose-go's field order,
 * empty values left out), networks, volumes, secrets, configs, models and
 * top-level extensions; durations as Go durations ("1m30s"), sizes and file
 * modes as Compose prints them, and every `$` doubled so that the output
 * loads again to the same project.
 */

type Plain = Record<string, unknown>;

/** compose-go's ServiceConfig field order (types.go), which `docker compose config` follows. */
const SERVICE_ORDER = [
  'profiles', 'annotations', 'attach', 'build', 'develop', 'blkio_config', 'cap_add', 'cap_drop', 'cgroup_parent', 'cgroup',
  'cpu_count', 'cpu_percent', 'cpu_period', 'cpu_quota', 'cpu_rt_period', 'cpu_rt_runtime', 'cpus', 'cpuset', 'cpu_shares',
  'command', 'configs', 'container_name', 'credential_spec', 'depends_on', 'deploy', 'device_cgroup_rules', 'devices', 'dns',
  'dns_opt', 'dns_search', 'domainname', 'entrypoint', 'provider', 'environment', 'expose', 'external_links', 'extra_hosts',
  'group_add', 'gpus', 'hostname', 'healthcheck', 'image', 'init', 'ipc', 'isolation', 'labels', 'links', 'logging',
  'mem_limit', 'mem_reservation', 'memswap_limit', 'mem_swappiness', 'mac_address', 'models', 'network_mode', 'networks',
  'oom_kill_disable', 'oom_score_adj', 'pid', 'pids_limit', 'platform', 'ports', 'privileged', 'pull_policy', 'pull_refresh_after', 'read_only',
  'restart', 'runtime', 'scale', 'secrets', 'security_opt', 'shm_size', 'stdin_open', 'stop_grace_period', 'stop_signal',
  'storage_opt', 'sysctls', 'tmpfs', 'tty', 'ulimits', 'use_api_socket', 'user', 'userns_mode', 'uts', 'volumes',
  'volumes_from', 'working_dir', 'pre_start', 'post_start', 'pre_stop',
];
const PORT_ORDER = ['name', 'mode', 'host_ip', 'target', 'published', 'protocol', 'app_protocol'];
const REF_ORDER = ['source', 'target', 'uid', 'gid', 'mode'];
const DURATION_KEYS = new Set(['timeout', 'interval', 'start_period', 'start_interval', 'stop_grace_period', 'delay', 'monitor', 'window']);
const BYTE_KEYS = new Set(['shm_size', 'mem_limit', 'mem_reservation', 'memswap_limit', 'memory', 'size']);

export interface SerializeOptions {
  /** JSON keeps `command` and `entrypoint` even when null, as Compose's JSON does. */
  format: 'yaml' | 'json';
  /** Print each service's env_file (when it was not read into its environment: `config --no-env-resolution`). */
  envFiles?: boolean;
}

export function projectToPlain(project: Project, opts: SerializeOptions = { format: 'yaml' }): Plain {
  const out: Plain = { name: project.name };
  out.services = Object.fromEntries(
    Object.keys(project.services)
      .sort()
      .map((n) => [n, serviceToPlain(project.services[n]!, opts)]),
  );
  for (const kind of ['networks', 'volumes', 'secrets', 'configs', 'models'] as const) {
    const rec = project[kind] as Record<string, unknown>;
    const names = Object.keys(rec).sort();
    if (names.length) out[kind] = Object.fromEntries(names.map((n) => [n, clean(rec[n], kind)]));
  }
  for (const [k, v] of Object.entries(project.extensions)) out[k] = v;
  return escapeDollars(out) as Plain;
}

function serviceToPlain(s: ServiceConfig, opts: SerializeOptions): Plain {
  const src = s as unknown as Plain;
  const out: Plain = {};
  const keys = [...SERVICE_ORDER, ...Object.keys(s).filter((k) => k.startsWith('x-'))];
  for (const key of keys) {
    const v = src[key];
    let c: unknown;
    switch (key) {
      case 'command':
      case 'entrypoint':
        // null: the image's; [] (cleared) is printed. Compose's JSON always has both keys.
        c = v === null ? (opts.format === 'json' ? null : undefined) : v;
        if (c === null) {
          out[key] = null;
          continue;
        }
        break;
      case 'networks':
        c = networksOf(s);
        break;
      case 'depends_on':
        c = dependsOnOf(s);
        break;
      case 'environment':
        c = Object.keys(s.environment).length ? sortKeys(s.environment) : undefined;
        break;
      case 'extra_hosts':
        c = extraHosts(s.extra_hosts);
        break;
      case 'scale':
        // Taken from deploy.replicas when not written: print it where it was.
        c = s.scale !== undefined && s.scale === s.deploy?.replicas ? undefined : s.scale;
        break;
      default:
        c = clean(v, key);
    }
    if (c !== undefined) out[key] = c;
  }
  if (opts.envFiles && s.env_file.length) out.env_file = s.env_file.map((f) => ({ path: f.path, required: f.required, ...(f.format ? { format: f.format } : {}) }));
  return out;
}

/** `networks: {default: null}` keeps its nulls: they say "attached, with no settings". */
function networksOf(s: ServiceConfig): Plain | undefined {
  const names = Object.keys(s.networks);
  if (names.length === 0) return undefined;
  return Object.fromEntries(names.sort().map((n) => [n, s.networks[n] ? (clean(s.networks[n], 'network') ?? {}) : null]));
}

/** Compose prints `required` always, `restart` only when true. */
function dependsOnOf(s: ServiceConfig): Plain | undefined {
  const names = Object.keys(s.depends_on).sort();
  if (names.length === 0) return undefined;
  return Object.fromEntries(
    names.map((n) => {
      const { condition, restart, required, ...ext } = s.depends_on[n]!;
      return [n, { condition, ...(restart ? { restart } : {}), required, ...ext }];
    }),
  );
}

/** Drops what Compose omits (undefined, false, empty lists and maps), formats units, orders known objects. */
function clean(v: unknown, key: string): unknown {
  if (v === undefined || v === false) return undefined;
  if (typeof v === 'number') {
    if (DURATION_KEYS.has(key)) return formatDuration(v);
    if (BYTE_KEYS.has(key)) return String(v);
    if (key === 'mode') return '0' + v.toString(8);
    return v;
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return undefined;
    return v.map((item) => (isPlain(item) ? cleanObject(item, key) : item));
  }
  if (isPlain(v)) {
    const o = cleanObject(v, key);
    // A mount's `volume: {}` or `bind: {}` still says which kind of mount it is.
    return Object.keys(o).length || key === 'volume' || key === 'bind' ? o : undefined;
  }
  return v;
}

function cleanObject(o: Plain, key: string): Plain {
  const order = key === 'ports' ? PORT_ORDER : key === 'configs' || key === 'secrets' ? REF_ORDER : undefined;
  const keys = order ? [...order.filter((k) => k in o), ...Object.keys(o).filter((k) => !order.includes(k))] : Object.keys(o);
  const out: Plain = {};
  for (const k of keys) {
    const c = clean(o[k], k);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

function extraHosts(h: Record<string, string[]>): string[] | undefined {
  const list = Object.entries(h).flatMap(([host, ips]) => ips.map((ip) => `${host}=${ip}`));
  return list.length ? list.sort() : undefined;
}

function sortKeys(o: Plain): Plain {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}

function isPlain(v: unknown): v is Plain {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function escapeDollars(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/\$/g, '$$$$');
  if (Array.isArray(v)) return v.map(escapeDollars);
  if (isPlain(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeDollars(x)]));
  return v;
}

/** The image a service runs: its `image`, or the name Compose gives a built image (`<project>-<service>`). */
export function imageName(project: Project, s: ServiceConfig): string {
  return s.image ?? `${project.name}-${s.name}`;
}
