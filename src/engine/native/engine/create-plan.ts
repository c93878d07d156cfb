import { logLimits } from './log-limits.js';
import { checkDeviceRule } from '../../device-rules.js';
import { UserError } from '../../../util/errors.js';
import type { ContainerCreateRequest, NamedContainerRequest, MountRequest, NetworkAttachment, PortMapping } from '../../types.js';
import type { ImageRecord } from '../image/index.js';
import { ociArchitecture } from '../image/oci.js';
import { checkDevice, type ContainerMount, type ContainerConfig, type ContainerRuntime, type NamespaceModes, type SharedNamespace } from '../runtime/index.js';
import { resolveHealthcheck } from './healthcheck.js';
import type { EngineRecord } from './records.js';
import { byCodeUnits } from '../../../util/order.js';

/**
 * The Engine's ContainerCreateRequest as the runtime's ContainerConfig, plus what
 * the runtime does not carry (kept in the Engine's record) and how the
 * container joins networks. What the native engine cannot honour is refused
 * with a sentence naming the container and the option, never dropped in
 * silence; what Docker itself treats as best effort becomes a warning.
 */

export type NetworkPlan =
  | { kind: 'none' }
  | { kind: 'host' }
  | { kind: 'container'; id: string; name: string }
  | {
      kind: 'bridge';
      endpoints: NetworkAttachment[];
      ports: PortMapping[];
      extraHosts: string[];
      dns: string[];
      dnsSearch?: string[];
      dnsOptions?: string[];
    };

export interface CreatePlan {
  runtime: ContainerConfig;
  record: Omit<EngineRecord, 'id' | 'filesToken'>;
  network: NetworkPlan;
  /** Legacy links, "container:alias", turned into /etc/hosts lines once the plan knows the addresses. */
  links: Array<{ container: string; alias: string }>;
  warnings: string[];
}

type Runtime = Pick<ContainerRuntime, 'inspect' | 'cgroups'>;

export async function planCreate(spec: NamedContainerRequest, image: ImageRecord, rt: Runtime): Promise<CreatePlan> {
  const name = spec.name;
  const fail = (what: string, hint: string): never => {
    throw new UserError(`container ${name}: ${what} is not supported by the native engine`, 1, `${hint}, or use --backend docker`);
  };
  const warnings: string[] = [];
  const cfg = image.config.config ?? {};

  checkNamespaces(spec, fail);
  if (spec.platform && spec.platform !== `linux/${ociArchitecture()}` && spec.platform !== 'linux') {
    throw new UserError(`container ${name}: platform ${spec.platform} does not match this host (linux/${ociArchitecture()})`, 1, 'drop platform:, or build the image for this host');
  }
  if (spec.runtime && spec.runtime !== 'runc') fail(`runtime "${spec.runtime}"`, 'drop runtime:');
  if (spec.logging && !['json-file', 'local', 'none', ''].includes(spec.logging.driver)) {
    fail(`logging driver "${spec.logging.driver}"`, 'drop logging.driver (the engine keeps each container\'s output in its own log)');
  }
  if (spec.macAddress) fail('mac_address', 'drop it (addresses are assigned per network)');

  const r = spec.resources ?? {};
  const devices = (r.devices ?? []).map((d) => ({ host: d.host, container: d.container || d.host, permissions: d.permissions || 'rwm' }));
  for (const d of devices) checkDevice(d, name);
  const deviceCgroupRules = r.deviceCgroupRules ?? [];
  for (const rule of deviceCgroupRules) checkDeviceRule(rule, name);
  for (const [k, v] of [['mem_swappiness', r.memorySwappiness], ['oom_kill_disable', r.oomKillDisable]] as const) {
    if (v !== undefined) warnings.push(`${k} is not applied by the native engine`);
  }
  // As Docker (and in its words): a weight the kernel cannot apply is dropped with a warning, not refused.
  const blkioWeight = r.blkioWeight && rt.cgroups.supportsBlkioWeight() ? r.blkioWeight : undefined;
  if (r.blkioWeight && blkioWeight === undefined) warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');

  const security = parseSecurityOpt(spec.securityOpt ?? [], name, warnings);
  const mounts = [...(spec.mounts ?? []).map((m) => mountOf(m, name)), ...tmpfsMounts(spec.tmpfs ?? {}, name)];
  for (const m of await volumesFromMounts(spec.volumesFrom ?? [], rt, name)) {
    if (!mounts.some((x) => x.target === m.target)) mounts.push(m);
  }

  const network = await planNetwork(spec, rt);
  const namespaces = await planNamespaces(spec, rt);
  const stopSignal = spec.stopSignal ?? cfg.StopSignal;
  const runtime: ContainerConfig = {
    name,
    image: spec.image,
    ...(spec.cmd !== undefined ? { cmd: spec.cmd } : {}),
    ...(spec.entrypoint !== undefined ? { entrypoint: spec.entrypoint } : {}),
    env: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
    ...(spec.user ? { user: spec.user } : {}),
    ...(spec.groupAdd?.length ? { groupAdd: spec.groupAdd } : {}),
    ...(spec.hostname ? { hostname: spec.hostname } : {}),
    ...(spec.domainname ? { domainname: spec.domainname } : {}),
    tty: spec.tty ?? false,
    openStdin: spec.openStdin ?? false,
    labels: { ...(cfg.Labels ?? {}), ...spec.labels },
    mounts,
    readOnlyRootfs: spec.readOnly ?? false,
    ...(spec.capAdd?.length ? { capAdd: spec.capAdd } : {}),
    ...(spec.capDrop?.length ? { capDrop: spec.capDrop } : {}),
    privileged: spec.privileged ?? false,
    ...security,
    init: spec.init ?? false,
    resources: {
      ...(r.memory ? { memory: r.memory } : {}),
      ...(r.memorySwap ? { memorySwap: r.memorySwap } : {}),
      ...(r.memoryReservation ? { memoryReservation: r.memoryReservation } : {}),
      ...(r.nanoCpus ? { cpus: r.nanoCpus / 1e9 } : {}),
      ...(r.cpuShares ? { cpuShares: r.cpuShares } : {}),
      ...(r.cpuPeriod ? { cpuPeriod: r.cpuPeriod } : {}),
      ...(r.cpuQuota ? { cpuQuota: r.cpuQuota } : {}),
      ...(r.pidsLimit ? { pidsLimit: r.pidsLimit } : {}),
      ...(r.oomScoreAdj !== undefined ? { oomScoreAdj: r.oomScoreAdj } : {}),
      ...(r.cpusetCpus ? { cpusetCpus: r.cpusetCpus } : {}),
      ...(r.cpusetMems ? { cpusetMems: r.cpusetMems } : {}),
      ...(blkioWeight ? { blkioWeight } : {}),
    },
    ...(stopSignal ? { stopSignal } : {}),
    ...(spec.stopTimeout !== undefined ? { stopTimeout: spec.stopTimeout } : {}),
    ...(r.shmSize ? { shmSize: r.shmSize } : {}),
    ...(spec.sysctls && Object.keys(spec.sysctls).length ? { sysctls: spec.sysctls } : {}),
    ...(r.ulimits?.length ? { ulimits: r.ulimits } : {}),
    ...(Object.keys(namespaces).length ? { namespaces } : {}),
    ...(devices.length ? { devices } : {}),
    ...(deviceCgroupRules.length ? { deviceCgroupRules } : {}),
    ...(network.kind !== 'bridge' && spec.extraHosts?.length ? { extraHosts: spec.extraHosts } : {}),
    ...(network.kind !== 'bridge' && (spec.dns?.length || spec.dnsSearch?.length || spec.dnsOptions?.length)
      ? { dns: { servers: spec.dns ?? [], search: spec.dnsSearch ?? [], options: spec.dnsOptions ?? [] } }
      : {}),
    autoRemove: spec.autoRemove ?? false,
    log: logLimits(spec.logging, name),
  };

  return {
    runtime,
    record: {
      ...(resolveHealthcheckOf(spec, cfg.Healthcheck, name)),
      restart: normalizeRestart(spec, name),
      stopSignalSet: stopSignal !== undefined,
      autoRemove: spec.autoRemove ?? false,
      ...(spec.networkMode && network.kind !== 'bridge' ? { networkMode: network.kind === 'container' ? `container:${network.id}` : network.kind } : {}),
      networks: network.kind === 'bridge' ? network.endpoints : [],
      ports: network.kind === 'bridge' ? network.ports : [],
      exposedPorts: exposedPorts(cfg.ExposedPorts ?? {}, spec),
      ...(spec.tmpfs && Object.keys(spec.tmpfs).length ? { tmpfsTargets: Object.keys(spec.tmpfs) } : {}),
    },
    network,
    links: (spec.links ?? []).map((l) => {
      const [container, alias] = l.split(':');
      return { container: container!, alias: alias ?? container! };
    }),
    warnings,
  };
}

function resolveHealthcheckOf(spec: NamedContainerRequest, image: Parameters<typeof resolveHealthcheck>[1], name: string): { healthcheck?: EngineRecord['healthcheck'] } {
  const h = resolveHealthcheck(spec.healthcheck, image, name);
  return h ? { healthcheck: h } : {};
}

function checkNamespaces(spec: ContainerCreateRequest, fail: (what: string, hint: string) => never): void {
  if (spec.userns && spec.userns !== 'host') fail(`userns_mode: ${spec.userns}`, 'drop userns_mode:');
  if (spec.cgroupParent) fail('cgroup_parent', 'drop cgroup_parent:');
}

/**
 * pid and ipc: `host` or `container:x` (the planner turns `service:x` into its
 * first container's name); uts: `host`, the only sharing Docker knows for it;
 * cgroup: `host` (the host's cgroup namespace) or `private` (the default).
 * Another container is named by id, so that a rename does not lose it.
 */
async function planNamespaces(spec: NamedContainerRequest, rt: Runtime): Promise<NamespaceModes> {
  const out: NamespaceModes = {};
  const shared = async (kind: 'pid' | 'ipc', value: string | undefined, own: string[]): Promise<SharedNamespace | undefined> => {
    if (value === undefined || value === '' || own.includes(value)) return undefined;
    if (value === 'host') return 'host';
    if (value.startsWith('container:')) {
      const ref = value.slice('container:'.length);
      try {
        return { container: (await rt.inspect(ref)).Id };
      } catch {
        throw new UserError(`container ${spec.name}: ${kind}: ${value} names a container that does not exist`, 1, 'create that container first');
      }
    }
    throw new UserError(`container ${spec.name}: invalid ${kind} mode "${value}"`, 1, `use ${[...own, 'host', 'container:NAME'].join(', ')}`);
  };
  const pid = await shared('pid', spec.pid, ['private']);
  const ipc = await shared('ipc', spec.ipc, ['private', 'shareable', 'none']);
  if (pid) out.pid = pid;
  if (ipc) out.ipc = ipc;
  if (spec.uts === 'host') {
    if (spec.hostname) throw new UserError(`container ${spec.name}: conflicting options: hostname and the UTS mode`, 1, 'drop hostname:, or uts: host');
    out.uts = 'host';
  } else if (spec.uts && spec.uts !== 'private') {
    throw new UserError(`container ${spec.name}: invalid UTS mode "${spec.uts}"`, 1, 'use host, or drop uts:');
  }
  if (spec.cgroup === 'host') out.cgroup = 'host';
  else if (spec.cgroup !== undefined && spec.cgroup !== 'private') {
    throw new UserError(`container ${spec.name}: invalid cgroup namespace mode "${spec.cgroup}"`, 1, 'use host or private, or drop cgroup:');
  }
  return out;
}

function normalizeRestart(spec: NamedContainerRequest, name: string): EngineRecord['restart'] {
  const p = spec.restart ?? { name: 'no' as const };
  if (!['no', 'always', 'on-failure', 'unless-stopped'].includes(p.name)) {
    throw new UserError(`container ${name}: unknown restart policy "${p.name}"`, 1, 'use no, always, on-failure[:N] or unless-stopped');
  }
  if (p.maxRetries !== undefined && (!Number.isInteger(p.maxRetries) || p.maxRetries < 0)) {
    throw new UserError(`container ${name}: invalid maximum retry count ${p.maxRetries}`, 1, 'give a whole number, e.g. on-failure:3');
  }
  if (p.maxRetries && p.name !== 'on-failure') {
    throw new UserError(`container ${name}: maximum retry count cannot be used with restart policy '${p.name}'`, 1, 'use on-failure:N');
  }
  if (spec.autoRemove && p.name !== 'no') {
    throw new UserError(`container ${name}: can't create 'AutoRemove' container with restart policy`, 1, 'drop --rm or the restart policy');
  }
  return p.maxRetries ? { name: p.name, maxRetries: p.maxRetries } : { name: p.name };
}

function parseSecurityOpt(opts: string[], name: string, warnings: string[]): Pick<ContainerConfig, 'noNewPrivileges' | 'seccomp'> {
  const out: Pick<ContainerConfig, 'noNewPrivileges' | 'seccomp'> = {};
  for (const o of opts) {
    const [key, value] = o.includes('=') ? [o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1)] : o.split(':') as [string, string?];
    if (key === 'no-new-privileges') out.noNewPrivileges = value === undefined || value === '' || value === 'true';
    else if (key === 'seccomp' && value === 'unconfined') out.seccomp = 'unconfined';
    else if (key === 'seccomp' && value === 'default') out.seccomp = 'default';
    else if (key === 'label' || key === 'apparmor') warnings.push(`security_opt ${o} is not applied: this host runs no SELinux or AppArmor policy for the native engine`);
    else throw new UserError(`container ${name}: security_opt "${o}" is not supported by the native engine`, 1, 'use no-new-privileges, seccomp=unconfined or seccomp=default');
  }
  return out;
}

function mountOf(m: MountRequest, name: string): ContainerMount {
  if (m.subpath) throw new UserError(`container ${name}: the volume subpath of ${m.target} is not supported by the native engine`, 1, 'mount the whole volume, or use --backend docker');
  if (m.type === 'bind') {
    if (m.propagation && !['rprivate', 'private'].includes(m.propagation)) {
      throw new UserError(`container ${name}: bind propagation "${m.propagation}" of ${m.target} is not supported by the native engine`, 1, 'drop bind.propagation');
    }
    return { type: 'bind', source: m.source, target: m.target, readOnly: m.readOnly ?? false, options: { createHostPath: m.createHostPath ?? false } };
  }
  if (m.type === 'volume') {
    return { type: 'volume', source: m.source ?? '', target: m.target, readOnly: m.readOnly ?? false, ...(m.noCopy ? { options: { noCopy: true } } : {}) };
  }
  if (m.type === 'tmpfs') {
    return {
      type: 'tmpfs', target: m.target, readOnly: m.readOnly ?? false,
      options: { ...(m.tmpfsSize ? { tmpfsSize: m.tmpfsSize } : {}), ...(m.tmpfsMode !== undefined ? { tmpfsMode: m.tmpfsMode } : {}) },
    };
  }
  throw new UserError(`container ${name}: mount type "${String(m.type)}" is not supported`, 1, 'use bind, volume or tmpfs');
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `--tmpfs /run:size=64m,mode=1777`: size and mode are honoured; rw/ro and the usual flags are accepted. */
export function tmpfsMounts(tmpfs: Record<string, string>, name: string): ContainerMount[] {
  return Object.entries(tmpfs).map(([target, options]) => {
    const m: ContainerMount = { type: 'tmpfs', target, readOnly: false, options: {} };
    for (const o of options.split(',').map((x) => x.trim()).filter(Boolean)) {
      const [k, v = ''] = o.split('=');
      if (k === 'size') {
        const s = /^(\d+)([bkmg]?)$/i.exec(v);
        if (!s) throw new UserError(`container ${name}: invalid tmpfs size "${v}" for ${target}`, 1, 'e.g. size=64m');
        m.options!.tmpfsSize = Number(s[1]) * UNITS[s[2]!.toLowerCase()]!;
      } else if (k === 'mode') {
        if (!/^[0-7]{3,4}$/.test(v)) throw new UserError(`container ${name}: invalid tmpfs mode "${v}" for ${target}`, 1, 'e.g. mode=1777');
        m.options!.tmpfsMode = parseInt(v, 8);
      } else if (k === 'ro') m.readOnly = true;
      else if (!['rw', 'noexec', 'nosuid', 'nodev', 'exec', 'suid', 'dev'].includes(k!)) {
        throw new UserError(`container ${name}: tmpfs option "${o}" of ${target} is not supported by the native engine`, 1, 'use size=, mode=, ro or rw');
      }
    }
    return m;
  });
}

/** `volumes_from`: the other container's volumes and binds, read-only when asked (":ro"). */
async function volumesFromMounts(refs: string[], rt: Runtime, name: string): Promise<ContainerMount[]> {
  const out: ContainerMount[] = [];
  for (const ref of refs) {
    const [source, mode] = ref.split(':') as [string, string | undefined];
    let other;
    try {
      other = await rt.inspect(source);
    } catch {
      throw new UserError(`container ${name}: volumes_from names ${source}, which does not exist`, 1, 'create that container first');
    }
    for (const m of other.Mounts) {
      const readOnly = mode === 'ro' ? true : mode === 'rw' ? false : !m.RW;
      if (m.Type === 'volume' && m.Name) out.push({ type: 'volume', source: m.Name, target: m.Destination, readOnly });
      else if (m.Type === 'bind') out.push({ type: 'bind', source: m.Source, target: m.Destination, readOnly });
    }
  }
  return out;
}

async function planNetwork(spec: NamedContainerRequest, rt: Runtime): Promise<NetworkPlan> {
  const mode = spec.networkMode;
  const bridge = (endpoints: NetworkAttachment[]): NetworkPlan => ({
    kind: 'bridge',
    endpoints,
    ports: spec.ports ?? [],
    extraHosts: spec.extraHosts ?? [],
    dns: spec.dns ?? [],
    ...(spec.dnsSearch?.length ? { dnsSearch: spec.dnsSearch } : {}),
    ...(spec.dnsOptions?.length ? { dnsOptions: spec.dnsOptions } : {}),
  });
  if (mode === undefined) return bridge(spec.networks ?? []);
  if (mode === 'bridge' || mode === 'default') return bridge([{ network: 'bridge' }]);
  const conflicting = (what: string) => {
    if (spec.ports?.length) {
      throw new UserError(`container ${spec.name}: conflicting options: port publishing and network_mode ${what}`, 1, 'drop ports:, or join a network');
    }
  };
  if (mode === 'none' || mode === 'host') {
    conflicting(mode);
    return { kind: mode };
  }
  if (mode.startsWith('container:') || mode.startsWith('service:')) {
    conflicting(mode);
    const ref = mode.slice(mode.indexOf(':') + 1);
    let other;
    try {
      other = await rt.inspect(ref);
    } catch {
      throw new UserError(`container ${spec.name}: network_mode ${mode} names a container that does not exist`, 1, 'create that container first');
    }
    return { kind: 'container', id: other.Id, name: other.Name.replace(/^\//, '') };
  }
  // Docker's --network NAME: a network of ours.
  return bridge([{ network: mode, ...(spec.networks?.[0]?.aliases ? { aliases: spec.networks[0].aliases } : {}) }]);
}

function exposedPorts(image: Record<string, object>, spec: ContainerCreateRequest): string[] {
  const out = new Set(Object.keys(image).map(normalizePort));
  for (const p of spec.exposedPorts ?? []) out.add(normalizePort(p));
  for (const p of spec.ports ?? []) out.add(`${p.target}/${p.protocol}`);
  return [...out].sort((a, b) => parseInt(a) - parseInt(b) || byCodeUnits(a, b));
}

function normalizePort(p: string): string {
  return p.includes('/') ? p : `${p}/tcp`;
}
