import type { BackendName } from '../engine/types.js';
import { DEVICE_RULE_FIX, parseDeviceRule } from '../engine/device-rules.js';
import type { Project, ServiceConfig } from '../project/types.js';
import { UserError } from '../util/errors.js';

/**
 * What tscompose does with every property of a service: the one table that
 * `up`, `create` and `run` consult before anything is created (checkSupport)
 * and that test/planner/service-support.test.ts holds against the Compose
 * Specification's schema. A property is
 * - honoured: it reaches the container (or the compose layer acts on it);
 * - refused: `up` stops with the sentence before creating anything;
 * - warned: `up` goes on and says the property is not applied.
 * `on` narrows a verdict to one backend (what the native engine cannot do,
 * Docker can); `when` narrows it to some values (cgroup: host, not cgroup: private).
 *
 * Paths are dotted; `*` stands for every entry of a list or map (volumes.*,
 * networks.*). The deeper paths are classified where a parent is honoured but
 * some of its keys would otherwise be dropped.
 */
export type Verdict =
  | { verdict: 'honoured' }
  | { verdict: 'refused'; sentence: string; fix: string; on?: BackendName; when?: (value: unknown) => boolean }
  | { verdict: 'warned'; sentence: string; on?: BackendName; when?: (value: unknown) => boolean };

const ok: Verdict = { verdict: 'honoured' };
const refuse = (sentence: string, fix: string, more: { on?: BackendName; when?: (value: unknown) => boolean } = {}): Verdict => ({ verdict: 'refused', sentence, fix, ...more });
const warn = (sentence: string, more: { on?: BackendName; when?: (value: unknown) => boolean } = {}): Verdict => ({ verdict: 'warned', sentence, ...more });

const NATIVE = { on: 'native' as const };
const notIn = (...allowed: string[]) => (v: unknown) => !allowed.includes(String(v));
const windowsOnly = (key: string) => warn(`${key} applies to Windows containers only and is not applied`);
const swarmOnly = (key: string) => warn(`${key} applies to Swarm services only and is not applied`);
/** Options of the json-file and local drivers the engine applies (its log cap). */
export const HONOURED_LOG_OPTIONS = ['max-size', 'max-file', 'compress'];

export const SERVICE_SUPPORT: Readonly<Record<string, Verdict>> = {
  annotations: warn('annotations are not applied to containers'),
  attach: ok,
  build: ok,
  'build.context': ok,
  'build.dockerfile': ok,
  'build.dockerfile_inline': ok,
  'build.args': ok,
  'build.labels': ok,
  'build.tags': ok,
  'build.target': ok,
  'build.network': ok,
  'build.no_cache': ok,
  'build.pull': ok,
  'build.extra_hosts': ok,
  'build.shm_size': ok,
  'build.platforms': refuse('building for more than one platform is not supported', 'list one platform in build.platforms', { when: (v) => (v as string[]).length > 1 }),
  'build.ssh': refuse('build.ssh is not supported (the builder forwards no SSH agent)', 'drop build.ssh'),
  'build.secrets': refuse('build.secrets are not supported by the builder', 'drop build.secrets'),
  'build.additional_contexts': refuse('build.additional_contexts are not supported by the builder', 'copy what the build needs into its context'),
  'build.privileged': refuse('privileged builds are not supported', 'drop build.privileged'),
  'build.entitlements': refuse('build.entitlements are not supported', 'drop build.entitlements'),
  'build.cache_from': warn('build.cache_from is not applied (the builder uses its local layer cache)'),
  'build.cache_to': warn('build.cache_to is not applied (the builder keeps its cache locally)'),
  'build.no_cache_filter': warn('build.no_cache_filter is not applied (use build.no_cache)'),
  'build.provenance': warn('build.provenance is not applied (no attestations are made)'),
  'build.sbom': warn('build.sbom is not applied (no attestations are made)'),
  'build.isolation': windowsOnly('build.isolation'),
  'build.ulimits': warn('build.ulimits are not applied to build steps'),
  blkio_config: ok,
  'blkio_config.weight': ok,
  'blkio_config.weight_device': refuse('blkio_config.weight_device is not supported', 'drop it (blkio_config.weight applies to every device)'),
  'blkio_config.device_read_bps': refuse('blkio_config.device_read_bps is not supported', 'drop it'),
  'blkio_config.device_read_iops': refuse('blkio_config.device_read_iops is not supported', 'drop it'),
  'blkio_config.device_write_bps': refuse('blkio_config.device_write_bps is not supported', 'drop it'),
  'blkio_config.device_write_iops': refuse('blkio_config.device_write_iops is not supported', 'drop it'),
  cap_add: ok,
  cap_drop: ok,
  cgroup: ok,
  cgroup_parent: refuse('cgroup_parent is not supported by the native engine', 'drop cgroup_parent:, or use --backend docker', NATIVE),
  command: ok,
  configs: ok,
  container_name: ok,
  cpu_count: windowsOnly('cpu_count'),
  cpu_percent: windowsOnly('cpu_percent'),
  cpu_shares: ok,
  cpu_quota: ok,
  cpu_period: ok,
  cpu_rt_period: refuse('cpu_rt_period (real-time scheduling) is not supported', 'drop cpu_rt_period:'),
  cpu_rt_runtime: refuse('cpu_rt_runtime (real-time scheduling) is not supported', 'drop cpu_rt_runtime:'),
  cpus: ok,
  cpuset: ok,
  credential_spec: windowsOnly('credential_spec'),
  depends_on: ok,
  deploy: ok,
  'deploy.mode': refuse('deploy.mode: global is not supported outside Swarm', 'drop deploy.mode, or set it to replicated', { when: notIn('replicated') }),
  'deploy.endpoint_mode': swarmOnly('deploy.endpoint_mode'),
  'deploy.replicas': ok,
  'deploy.labels': swarmOnly('deploy.labels (labels of the Swarm service, not of its containers)'),
  'deploy.rollback_config': swarmOnly('deploy.rollback_config'),
  'deploy.update_config': swarmOnly('deploy.update_config'),
  'deploy.placement': swarmOnly('deploy.placement'),
  'deploy.resources': ok,
  'deploy.resources.limits': ok,
  'deploy.resources.limits.cpus': ok,
  'deploy.resources.limits.memory': ok,
  'deploy.resources.limits.pids': ok,
  'deploy.resources.reservations': ok,
  'deploy.resources.reservations.cpus': warn('deploy.resources.reservations.cpus is not applied (the kernel has no CPU reservation; use cpu_shares)'),
  'deploy.resources.reservations.memory': ok,
  'deploy.resources.reservations.generic_resources': refuse('deploy.resources.reservations.generic_resources is not supported', 'drop it'),
  'deploy.resources.reservations.devices': refuse('device reservations (GPUs and other devices) are not supported', 'drop deploy.resources.reservations.devices'),
  'deploy.restart_policy': ok,
  'deploy.restart_policy.condition': ok,
  'deploy.restart_policy.max_attempts': ok,
  'deploy.restart_policy.delay': warn('deploy.restart_policy.delay is not applied (the engine backs off as Docker does)'),
  'deploy.restart_policy.window': warn('deploy.restart_policy.window is not applied'),
  develop: ok,
  device_cgroup_rules: refuse('device_cgroup_rules has a malformed rule', DEVICE_RULE_FIX, { when: (v) => (v as string[]).some((rule) => !parseDeviceRule(rule)) }),
  devices: ok,
  dns: ok,
  dns_opt: ok,
  dns_search: ok,
  domainname: ok,
  entrypoint: ok,
  env_file: ok,
  label_file: ok,
  environment: ok,
  expose: ok,
  extends: ok,
  provider: refuse('provider services are not supported', 'drop provider:, and run what it provides as a service of its own'),
  external_links: ok,
  extra_hosts: ok,
  gpus: refuse('gpus are not supported: tscompose has no GPU support', 'drop gpus:'),
  group_add: ok,
  healthcheck: ok,
  'healthcheck.test': ok,
  'healthcheck.interval': ok,
  'healthcheck.timeout': ok,
  'healthcheck.retries': ok,
  'healthcheck.start_period': ok,
  'healthcheck.start_interval': ok,
  'healthcheck.disable': ok,
  hostname: ok,
  image: ok,
  init: ok,
  ipc: ok,
  isolation: refuse('isolation applies to Windows containers only', 'drop isolation:, or set it to default', { when: notIn('default') }),
  labels: ok,
  links: ok,
  logging: ok,
  'logging.driver': refuse('logging drivers other than json-file, local and none are not supported by the native engine', 'drop logging.driver (the engine keeps each container\'s output in its own log)', { ...NATIVE, when: notIn('json-file', 'local', 'none', '') }),
  'logging.options': warn(`logging options other than ${HONOURED_LOG_OPTIONS.join(', ')} are not applied by the native engine`, {
    ...NATIVE,
    when: (v) => Object.keys(v as object).some((k) => !HONOURED_LOG_OPTIONS.includes(k)),
  }),
  mac_address: refuse('mac_address is not supported by the native engine', 'drop it (addresses are assigned per network), or use --backend docker', NATIVE),
  mem_limit: ok,
  mem_reservation: ok,
  mem_swappiness: warn('mem_swappiness is not applied by the native engine', NATIVE),
  memswap_limit: ok,
  network_mode: ok,
  models: refuse('models are not supported: tscompose has no model runner', 'drop models:'),
  networks: ok,
  'networks.*.aliases': ok,
  'networks.*.ipv4_address': ok,
  'networks.*.priority': ok,
  'networks.*.gw_priority': ok,
  'networks.*.ipv6_address': refuse('ipv6_address is not supported by the native engine yet', 'drop it, or use --backend docker', NATIVE),
  'networks.*.mac_address': refuse('a MAC address per network is not supported by the native engine', 'drop networks.<name>.mac_address, or use --backend docker', NATIVE),
  'networks.*.link_local_ips': refuse('link_local_ips are not supported by the native engine', 'drop them, or use --backend docker', NATIVE),
  'networks.*.driver_opts': refuse('driver_opts of a service\'s network attachment are not supported by the native engine', 'drop them, or use --backend docker', NATIVE),
  'networks.*.interface_name': refuse('interface_name is not supported', 'drop networks.<name>.interface_name'),
  oom_kill_disable: warn('oom_kill_disable is not applied by the native engine', NATIVE),
  oom_score_adj: ok,
  pid: ok,
  pids_limit: ok,
  platform: ok,
  ports: ok,
  pre_start: refuse('pre_start hooks are not run by tscompose yet', 'drop pre_start:, and run the step in the service\'s command'),
  post_start: ok,
  pre_stop: ok,
  privileged: ok,
  profiles: ok,
  pull_policy: ok,
  pull_refresh_after: warn('pull_refresh_after is not applied (pull_policy alone decides when to pull)'),
  read_only: ok,
  restart: ok,
  runtime: refuse('runtimes other than runc are not supported by the native engine', 'drop runtime:, or use --backend docker', { ...NATIVE, when: notIn('runc') }),
  scale: ok,
  security_opt: ok,
  shm_size: ok,
  secrets: ok,
  sysctls: ok,
  stdin_open: ok,
  stop_grace_period: ok,
  stop_signal: ok,
  storage_opt: refuse('storage_opt is not supported (the writable layer has no size quota)', 'drop storage_opt:'),
  tmpfs: ok,
  tty: ok,
  ulimits: ok,
  use_api_socket: refuse('use_api_socket is not supported', 'drop use_api_socket:, and mount the engine\'s socket with volumes: if the service needs it'),
  user: ok,
  // Docker knows no other UTS sharing (no container:/service:): said before anything exists, on both backends.
  uts: refuse('uts shares the host\'s namespace only', 'write uts: host, or drop uts:', { when: notIn('host', 'private') }),
  userns_mode: refuse('userns_mode is not supported by the native engine', 'drop userns_mode:, or use --backend docker', { ...NATIVE, when: notIn('host') }),
  volumes: ok,
  'volumes.*.type': refuse('mounts of type cluster, npipe or image are not supported', 'use a bind, volume or tmpfs mount', { when: notIn('bind', 'volume', 'tmpfs') }),
  'volumes.*.source': ok,
  'volumes.*.target': ok,
  'volumes.*.read_only': ok,
  'volumes.*.consistency': warn('volumes consistency applies to Docker Desktop only and is not applied'),
  'volumes.*.bind': ok,
  'volumes.*.bind.create_host_path': ok,
  'volumes.*.bind.propagation': refuse('bind propagation other than rprivate is not supported by the native engine', 'drop bind.propagation, or use --backend docker', { ...NATIVE, when: notIn('rprivate', 'private') }),
  'volumes.*.bind.recursive': refuse('bind.recursive other than enabled is not supported', 'drop bind.recursive (binds are recursive)', { when: notIn('enabled') }),
  'volumes.*.bind.selinux': warn('bind.selinux is not applied: bind mounts are not relabelled'),
  'volumes.*.volume': ok,
  'volumes.*.volume.nocopy': ok,
  'volumes.*.volume.labels': warn('volume.labels of a mount are not applied (label the volume under the top-level volumes: key)'),
  'volumes.*.volume.subpath': refuse('a volume subpath is not supported by the native engine', 'mount the whole volume, or use --backend docker', NATIVE),
  'volumes.*.tmpfs': ok,
  'volumes.*.tmpfs.size': ok,
  'volumes.*.tmpfs.mode': ok,
  'volumes.*.image': refuse('image mounts are not supported', 'copy what the service needs from the image into a volume'),
  volumes_from: ok,
  working_dir: ok,
};

/** A property a service sets: anything but absent, null, false, an empty list or an empty map. */
function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Whether some value at a dotted path (`*`: every entry of a list or map), from path[at] on, passes `test`. */
function someAt(root: unknown, path: readonly string[], at: number, test: (v: unknown) => boolean): boolean {
  if (at === path.length) return test(root);
  if (root === null || typeof root !== 'object') return false;
  const head = path[at]!;
  if (head !== '*') return someAt((root as Record<string, unknown>)[head], path, at + 1, test);
  for (const v of Object.values(root)) if (someAt(v, path, at + 1, test)) return true;
  return false;
}

/**
 * The table's entries that can stop or warn, their paths split once: `up` checks every service
 * against them, and splitting and copying paths per service and level made it a few million
 * instructions of a no-op `up`.
 */
let checked: { path: string; parts: string[]; v: Exclude<Verdict, { verdict: 'honoured' }> }[] | undefined;
function checkedEntries(): NonNullable<typeof checked> {
  checked ??= Object.entries(SERVICE_SUPPORT).flatMap(([path, v]) => (v.verdict === 'honoured' ? [] : [{ path, parts: path.split('.'), v }]));
  return checked;
}

export interface SupportFinding {
  service: string;
  path: string;
  verdict: 'refused' | 'warned';
  sentence: string;
  fix?: string;
}


/** What the table says about one service on `backend`: its refusals and warnings, in table order. */
export function findingsOf(service: ServiceConfig, backend: BackendName): SupportFinding[] {
  const out: SupportFinding[] = [];
  for (const { path, parts, v } of checkedEntries()) {
    if (v.on && v.on !== backend) continue;
    if (!someAt(service, parts, 0, (x) => isSet(x) && (!v.when || v.when(x)))) continue;
    out.push(v.verdict === 'refused'
      ? { service: service.name, path, verdict: 'refused', sentence: v.sentence, fix: v.fix }
      : { service: service.name, path, verdict: 'warned', sentence: v.sentence });
  }
  return out;
}

/**
 * The check `up`, `create` and `run` make before anything is created: every
 * refused property of every service, in one error (so one edit fixes them
 * all); the warnings are returned for the caller to report.
 */
export function checkSupport(project: Project, backend: BackendName, services: string[]): string[] {
  const findings = [...new Set(services)].sort().flatMap((name) => (project.services[name] ? findingsOf(project.services[name], backend) : []));
  const refused = findings.filter((f) => f.verdict === 'refused');
  if (refused.length) {
    const lines = refused.map((f) => `service ${f.service}: ${f.sentence} (${f.fix})`);
    throw new UserError(lines.join('\n'), 1, 'nothing was created');
  }
  return findings.map((f) => `service ${f.service}: ${f.sentence}`);
}
