import type { ContainerCreateRequest, FileRequest, HealthcheckConfig, NamedContainerRequest, MountRequest, NetworkAttachment, Resources, RestartPolicy } from '../engine/types.js';
import type { Project, ServiceConfig, ServiceFileReference } from '../project/types.js';
import { UserError } from '../util/errors.js';
import { resolveEnvironment } from './hash.js';
import { COMPOSE_VERSION, Label, containerName } from './labels.js';
import type { ObservedState } from './observed.js';
import { imageRef } from './observe.js';
import { byCodeUnits } from '../util/order.js';

/**
 * Turns a service replica into an engine-neutral container request, as Docker
 * Compose does in create.go (getCreateConfigs): labels, networks with their
 * aliases, mounts for volumes, configs and secrets, resources, restart policy.
 * This is Compose knowledge; engines only ever see the result.
 */
export interface ReplicaIdentity {
  number: number;
  /** The name the container is created with (a replacement's temporary name, or a `run` name). */
  name: string;
  configHash: string;
  fieldDigests: string;
  imageId: string;
  oneoff?: boolean;
  /** Extra labels (`run`'s slug, a replacement's `replace` label). */
  labels?: Record<string, string>;
}

const DEFAULT_FILE_MODE = 0o444;

export function containerRequest(project: Project, service: ServiceConfig, observed: ObservedState, id: ReplicaIdentity): NamedContainerRequest {
  const labels: Record<string, string> = {
    ...service.labels,
    [Label.project]: project.name,
    [Label.service]: service.name,
    [Label.containerNumber]: String(id.number),
    [Label.oneoff]: id.oneoff ? 'True' : 'False',
    [Label.configHash]: id.configHash,
    [Label.configFields]: id.fieldDigests,
    [Label.image]: id.imageId,
    [Label.dependsOn]: dependsOnLabel(service),
    [Label.version]: COMPOSE_VERSION,
    [Label.workingDir]: project.workingDir,
    [Label.configFiles]: project.configFiles.join(','),
    ...id.labels,
  };
  const envFiles = service.env_file.map((f) => f.path);
  if (envFiles.length) labels[Label.environmentFile] = envFiles.join(',');

  const { mounts, files } = mountsOf(project, service, observed);
  const networkMode = networkModeOf(project, service);
  const spec: NamedContainerRequest = {
    name: id.name,
    image: imageRef(project, service.name),
    labels,
    entrypoint: service.entrypoint ?? undefined,
    cmd: service.command ?? undefined,
    env: resolveEnvironment(service, project.environment),
    user: service.user,
    workingDir: service.working_dir,
    hostname: service.hostname,
    domainname: service.domainname,
    mounts,
    files,
    volumesFrom: service.volumes_from.map((v) => volumesFromRef(project, v)),
    ports: service.ports.map((p) => ({ target: p.target, published: p.published, hostIp: p.host_ip, protocol: (p.protocol || 'tcp') as 'tcp' })),
    exposedPorts: service.expose,
    networks: networkMode ? undefined : networksOf(project, service, id.name, id.oneoff ?? false),
    networkMode,
    links: linksOf(project, service),
    healthcheck: healthcheckOf(service, observed.images[imageRef(project, service.name)]?.config.healthcheck),
    restart: restartOf(service),
    resources: resourcesOf(service),
    stopSignal: service.stop_signal,
    stopTimeout: service.stop_grace_period !== undefined ? Math.ceil(service.stop_grace_period / 1000) : undefined,
    init: service.init,
    capAdd: service.cap_add,
    capDrop: service.cap_drop,
    privileged: service.privileged,
    readOnly: service.read_only,
    securityOpt: service.security_opt,
    extraHosts: Object.entries(service.extra_hosts).flatMap(([host, ips]) => ips.map((ip) => `${host}:${ip}`)),
    dns: service.dns,
    dnsSearch: service.dns_search,
    dnsOptions: service.dns_opt,
    sysctls: service.sysctls,
    tty: service.tty,
    openStdin: service.stdin_open,
    ipc: namespaceRef(project, service.ipc),
    pid: namespaceRef(project, service.pid),
    uts: service.uts,
    cgroup: service.cgroup,
    cgroupParent: service.cgroup_parent,
    groupAdd: service.group_add,
    // Options without a driver are the default driver's (json-file): max-size and max-file cap its log.
    logging: service.logging?.driver || Object.keys(service.logging?.options ?? {}).length ? { driver: service.logging?.driver ?? '', options: service.logging?.options } : undefined,
    platform: service.platform,
    runtime: service.runtime,
    userns: service.userns_mode,
    macAddress: service.mac_address,
    tmpfs: tmpfsOf(service.tmpfs),
  };
  return spec;
}

function dependsOnLabel(service: ServiceConfig): string {
  return Object.entries(service.depends_on)
    .map(([name, d]) => `${name}:${d.condition}:${d.restart}`)
    .sort()
    .join(',');
}

/** `service:x` → the first container of x, by name (the engine resolves names at create time). */
function namespaceRef(project: Project, mode: string | undefined): string | undefined {
  if (!mode) return undefined;
  if (mode.startsWith('service:')) return `container:${firstContainerName(project, mode.slice('service:'.length))}`;
  return mode;
}

export function firstContainerName(project: Project, service: string): string {
  const s = project.services[service];
  if (!s) throw new UserError(`service ${service} is referred to but not enabled`, 1, 'enable its profile or remove the reference');
  return s.container_name ?? containerName(project.name, service, 1);
}

function networkModeOf(project: Project, service: ServiceConfig): string | undefined {
  return namespaceRef(project, service.network_mode);
}

function volumesFromRef(project: Project, v: string): string {
  if (v.startsWith('container:')) return v.slice('container:'.length);
  const [name, mode] = v.split(':');
  const target = firstContainerName(project, name!);
  return mode ? `${target}:${mode}` : target;
}

function linksOf(project: Project, service: ServiceConfig): string[] | undefined {
  const links = service.links.map((l) => {
    const [svc, alias] = l.split(':');
    return `${firstContainerName(project, svc!)}:${alias ?? svc}`;
  });
  const all = [...links, ...service.external_links.map((l) => (l.includes(':') ? l : `${l}:${l}`))];
  return all.length ? all : undefined;
}

/** The service's networks, highest priority first then by key (Compose's order); the default network when none. */
export function serviceNetworkKeys(project: Project, service: ServiceConfig): string[] {
  if (service.network_mode) return [];
  const keys = Object.keys(service.networks);
  if (keys.length === 0) return 'default' in project.networks ? ['default'] : [];
  const prio = (k: string) => service.networks[k]?.priority ?? service.networks[k]?.gw_priority ?? 0;
  return keys.sort((a, b) => prio(b) - prio(a) || byCodeUnits(a, b));
}

function networksOf(project: Project, service: ServiceConfig, name: string, oneoff: boolean): NetworkAttachment[] {
  return serviceNetworkKeys(project, service).map((key) => {
    const net = project.networks[key];
    if (!net) throw new UserError(`service ${service.name} refers to undefined network ${key}`, 1, 'declare it under the top-level networks: key');
    const cfg = service.networks[key] ?? undefined;
    // Compose aliases: the container name, then (not for one-off containers) the service name and the configured aliases.
    const aliases = [name, ...(oneoff ? [] : [service.name, ...(cfg?.aliases ?? [])])];
    return {
      network: net.name,
      aliases: [...new Set(aliases)],
      ipv4Address: cfg?.ipv4_address,
      ipv6Address: cfg?.ipv6_address,
      macAddress: cfg?.mac_address,
      linkLocalIps: cfg?.link_local_ips,
      driverOpts: cfg?.driver_opts,
    };
  });
}

function mountsOf(project: Project, service: ServiceConfig, observed: ObservedState): { mounts: MountRequest[]; files: FileRequest[] } {
  const mounts: MountRequest[] = [];
  for (const v of service.volumes) {
    switch (v.type) {
      case 'volume': {
        let source = '';
        if (v.source) {
          const vol = project.volumes[v.source];
          if (!vol) throw new UserError(`service ${service.name} refers to undefined volume ${v.source}`, 1, 'declare it under the top-level volumes: key');
          source = vol.name;
        }
        mounts.push({ type: 'volume', source, target: v.target, readOnly: v.read_only, noCopy: v.volume?.nocopy, subpath: v.volume?.subpath });
        break;
      }
      case 'bind':
        mounts.push({
          type: 'bind',
          source: v.source,
          target: v.target,
          readOnly: v.read_only,
          propagation: v.bind?.propagation,
          createHostPath: v.bind?.create_host_path ?? true,
        });
        break;
      case 'tmpfs':
        mounts.push({ type: 'tmpfs', target: v.target, readOnly: v.read_only, tmpfsSize: v.tmpfs?.size, tmpfsMode: v.tmpfs?.mode });
        break;
      default:
        throw new UserError(`service ${service.name}: volumes of type ${v.type} are not supported`, 1, 'use a bind, volume or tmpfs mount');
    }
  }
  const files: FileRequest[] = [];
  for (const [kind, refs] of [['config', service.configs], ['secret', service.secrets]] as const) {
    for (const ref of refs) {
      const target = fileTarget(kind, ref);
      const c = observed.contents[`${kind}:${ref.source}`];
      if (!c) throw new UserError(`service ${service.name} refers to undefined ${kind} ${ref.source}`);
      if (c.file !== undefined && ref.uid === undefined && ref.gid === undefined && ref.mode === undefined) {
        // A file-backed config or secret is bind-mounted read-only, as Compose does.
        mounts.push({ type: 'bind', source: c.file, target, readOnly: true });
      } else {
        files.push({ target, content: c.content, mode: ref.mode ?? DEFAULT_FILE_MODE, uid: toId(ref.uid), gid: toId(ref.gid) });
      }
    }
  }
  return { mounts, files };
}

function toId(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`uid/gid "${v}" of a config or secret must be a number`);
  return n;
}

/** Secrets go to /run/secrets/<name> (a relative target is under it); configs to /<name>. */
export function fileTarget(kind: 'config' | 'secret', ref: ServiceFileReference): string {
  if (kind === 'secret') {
    if (!ref.target) return `/run/secrets/${ref.source}`;
    return ref.target.startsWith('/') ? ref.target : `/run/secrets/${ref.target}`;
  }
  return ref.target ?? `/${ref.source}`;
}

/** What an engine takes for an unset start interval and interval (Docker 25's daemon/health.go). */
const ENGINE_START_INTERVAL_MS = 5_000;
const ENGINE_INTERVAL_MS = 30_000;

function healthcheckOf(service: ServiceConfig, image: HealthcheckConfig | undefined): ContainerCreateRequest['healthcheck'] {
  const h = service.healthcheck;
  if (!h) return undefined;
  if (h.disable) return { test: ['NONE'] };
  return {
    test: h.test.length ? h.test : [],
    interval: h.interval,
    timeout: h.timeout,
    retries: h.retries,
    startPeriod: h.start_period,
    startInterval: h.start_interval ?? startIntervalDefault(h.interval, image),
  };
}

/**
 * The start interval of a healthcheck whose file gives none. The Compose
 * schema says it defaults to the interval; Docker 25 and later probe every
 * 5 s during the start period when the container's config has none (older
 * engines probed at the interval throughout, what docker-compose 1.29 users
 * see). An interval under 5 s (the file's, else the image's) is kept: with
 * `interval: 2s` Docker 25 would leave a database that is ready unprobed for
 * up to 5 s, and the services that wait for it with it. A longer one is left
 * to the engine (5 s), so `interval: 1m` is not waited out while starting,
 * as on Docker 25. An image's own start interval wins, as in Docker's merge.
 */
function startIntervalDefault(interval: number | undefined, image: HealthcheckConfig | undefined): number | undefined {
  if (image?.startInterval) return undefined;
  const effective = interval || image?.interval || ENGINE_INTERVAL_MS;
  return effective < ENGINE_START_INTERVAL_MS ? effective : undefined;
}

function restartOf(service: ServiceConfig): RestartPolicy | undefined {
  const r = service.restart;
  if (r) {
    if (r.startsWith('on-failure')) {
      const n = r.split(':')[1];
      return { name: 'on-failure', maxRetries: n ? Number(n) : undefined };
    }
    return { name: r as RestartPolicy['name'] };
  }
  const p = service.deploy?.restart_policy;
  if (p?.condition) {
    const name = p.condition === 'none' ? 'no' : p.condition === 'any' ? 'always' : 'on-failure';
    return { name, maxRetries: name === 'on-failure' ? p.max_attempts : undefined };
  }
  return undefined;
}

function resourcesOf(service: ServiceConfig): Resources | undefined {
  const limits = service.deploy?.resources.limits;
  const reservations = service.deploy?.resources.reservations;
  const cpus = service.cpus ?? limits?.cpus;
  const r: Resources = {
    memory: service.mem_limit ?? limits?.memory,
    memoryReservation: service.mem_reservation ?? reservations?.memory,
    memorySwap: service.memswap_limit,
    memorySwappiness: service.mem_swappiness,
    nanoCpus: cpus !== undefined ? Math.round(cpus * 1e9) : undefined,
    cpuShares: service.cpu_shares,
    cpuPeriod: service.cpu_period,
    cpuQuota: service.cpu_quota,
    cpusetCpus: service.cpuset,
    pidsLimit: service.pids_limit ?? limits?.pids,
    shmSize: service.shm_size,
    oomKillDisable: service.oom_kill_disable || undefined,
    oomScoreAdj: service.oom_score_adj,
    blkioWeight: service.blkio_config?.weight,
    ulimits: Object.entries(service.ulimits).map(([name, u]) => ({ name, soft: u.soft, hard: u.hard })),
    devices: service.devices.map((d) => ({ host: d.source, container: d.target, permissions: d.permissions || 'rwm' })),
    deviceCgroupRules: service.device_cgroup_rules,
  };
  if (!r.ulimits!.length) delete r.ulimits;
  if (!r.devices!.length) delete r.devices;
  if (!r.deviceCgroupRules!.length) delete r.deviceCgroupRules;
  return Object.values(r).some((v) => v !== undefined) ? r : undefined;
}

function tmpfsOf(list: string[]): Record<string, string> | undefined {
  if (!list.length) return undefined;
  const out: Record<string, string> = {};
  for (const t of list) {
    const colon = t.indexOf(':');
    if (colon < 0) out[t] = '';
    else out[t.slice(0, colon)] = t.slice(colon + 1);
  }
  return out;
}
