import type { ContainerCreateOptions, EndpointSettings, HostConfig, MountConfig } from 'dockerode';
import type { ContainerCreateRequest, HealthcheckConfig, MountRequest, NetworkAttachment, PortMapping } from '../types.js';

const NS_PER_MS = 1_000_000;

/**
 * The body of POST /containers/create for an engine-neutral request. API 1.41
 * takes one network at create time: the first attachment goes here, the
 * others are connected by the caller before the first start.
 */
export function createBody(spec: ContainerCreateRequest): ContainerCreateOptions {
  const hostConfig: HostConfig = {
    ...bindsAndMounts(spec.mounts ?? []),
    PortBindings: portBindings(spec.ports ?? []),
    NetworkMode: spec.networkMode ?? spec.networks?.[0]?.network ?? 'default',
    RestartPolicy: spec.restart ? { Name: spec.restart.name === 'no' ? '' : spec.restart.name, MaximumRetryCount: spec.restart.maxRetries ?? 0 } : undefined,
    AutoRemove: spec.autoRemove,
    VolumesFrom: spec.volumesFrom,
    CapAdd: spec.capAdd,
    CapDrop: spec.capDrop,
    Dns: spec.dns,
    DnsOptions: spec.dnsOptions,
    DnsSearch: spec.dnsSearch,
    ExtraHosts: spec.extraHosts,
    GroupAdd: spec.groupAdd,
    IpcMode: spec.ipc,
    PidMode: spec.pid,
    UTSMode: spec.uts,
    // Compose's `cgroup` is the cgroup namespace mode (HostConfig.Cgroup is another thing: a container's
    // cgroup to join); dockerode's types predate the field.
    ...(spec.cgroup ? { CgroupnsMode: spec.cgroup } : {}),
    CgroupParent: spec.cgroupParent,
    Links: spec.links,
    Privileged: spec.privileged,
    ReadonlyRootfs: spec.readOnly,
    SecurityOpt: spec.securityOpt,
    Tmpfs: spec.tmpfs,
    UsernsMode: spec.userns,
    Sysctls: spec.sysctls,
    Runtime: spec.runtime,
    Init: spec.init,
    LogConfig: spec.logging ? { Type: spec.logging.driver, Config: spec.logging.options ?? {} } : undefined,
    ...resources(spec),
  };
  const body: ContainerCreateOptions = {
    name: spec.name,
    Image: spec.image,
    Labels: spec.labels,
    Entrypoint: spec.entrypoint,
    Cmd: spec.cmd,
    Env: spec.env ? Object.entries(spec.env).map(([k, v]) => `${k}=${v}`) : undefined,
    User: spec.user,
    WorkingDir: spec.workingDir,
    Hostname: spec.hostname,
    Domainname: spec.domainname,
    Tty: spec.tty ?? false,
    OpenStdin: spec.openStdin ?? false,
    StdinOnce: spec.stdinOnce ?? false,
    AttachStdin: spec.openStdin ?? false,
    AttachStdout: true,
    AttachStderr: true,
    StopSignal: spec.stopSignal,
    StopTimeout: spec.stopTimeout,
    MacAddress: spec.macAddress,
    ExposedPorts: exposedPorts(spec),
    Healthcheck: spec.healthcheck ? healthcheck(spec.healthcheck) : undefined,
    HostConfig: hostConfig,
    platform: spec.platform,
  };
  const first = spec.networkMode ? undefined : spec.networks?.[0];
  if (first) body.NetworkingConfig = { EndpointsConfig: { [first.network]: endpointConfig(first) } };
  return dropUndefined(body);
}

export function endpointConfig(a: Omit<NetworkAttachment, 'network'>): EndpointSettings {
  const ipam =
    a.ipv4Address || a.ipv6Address || a.linkLocalIps?.length
      ? { IPv4Address: a.ipv4Address, IPv6Address: a.ipv6Address, LinkLocalIPs: a.linkLocalIps }
      : undefined;
  return dropUndefined({
    Aliases: a.aliases,
    IPAMConfig: ipam ? dropUndefined(ipam) : undefined,
    MacAddress: a.macAddress,
    DriverOpts: a.driverOpts,
  }) as EndpointSettings;
}

function healthcheck(h: HealthcheckConfig): NonNullable<ContainerCreateOptions['Healthcheck']> {
  return dropUndefined({
    Test: h.test,
    Interval: h.interval !== undefined ? h.interval * NS_PER_MS : undefined,
    Timeout: h.timeout !== undefined ? h.timeout * NS_PER_MS : undefined,
    Retries: h.retries,
    StartPeriod: h.startPeriod !== undefined ? h.startPeriod * NS_PER_MS : undefined,
    // StartInterval needs API 1.44; older daemons ignore unknown fields.
    StartInterval: h.startInterval !== undefined ? h.startInterval * NS_PER_MS : undefined,
  });
}

/**
 * Short-syntax binds whose source may be missing go through HostConfig.Binds,
 * which creates the host directory as Compose expects; everything else uses
 * HostConfig.Mounts, which refuses a missing source.
 */
function bindsAndMounts(mounts: MountRequest[]): Pick<HostConfig, 'Binds' | 'Mounts'> {
  const binds: string[] = [];
  const out: MountConfig = [];
  for (const m of mounts) {
    if (m.type === 'bind' && m.createHostPath) {
      const opts = [m.readOnly ? 'ro' : 'rw', ...(m.propagation ? [m.propagation] : [])];
      binds.push(`${m.source}:${m.target}:${opts.join(',')}`);
      continue;
    }
    const mount: MountConfig[number] = { Type: m.type, Target: m.target, Source: m.source ?? '', ReadOnly: m.readOnly ?? false };
    if (m.type === 'bind' && m.propagation) mount.BindOptions = { Propagation: m.propagation as 'private' };
    if (m.type === 'volume' && (m.noCopy || m.subpath)) {
      mount.VolumeOptions = dropUndefined({ NoCopy: m.noCopy, Subpath: m.subpath }) as MountConfig[number]['VolumeOptions'];
    }
    if (m.type === 'tmpfs' && (m.tmpfsSize !== undefined || m.tmpfsMode !== undefined)) {
      mount.TmpfsOptions = dropUndefined({ SizeBytes: m.tmpfsSize, Mode: m.tmpfsMode }) as MountConfig[number]['TmpfsOptions'];
    }
    out.push(mount);
  }
  return { Binds: binds.length ? binds : undefined, Mounts: out.length ? out : undefined };
}

function portKey(p: { target: number; protocol: string }): string {
  return `${p.target}/${p.protocol}`;
}

function portBindings(ports: PortMapping[]): HostConfig['PortBindings'] {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) {
    (out[portKey(p)] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: p.published ?? '' });
  }
  return Object.keys(out).length ? out : undefined;
}

function exposedPorts(spec: ContainerCreateRequest): Record<string, object> | undefined {
  const out: Record<string, object> = {};
  for (const p of spec.ports ?? []) out[portKey(p)] = {};
  for (const e of spec.exposedPorts ?? []) out[e.includes('/') ? e : `${e}/tcp`] = {};
  return Object.keys(out).length ? out : undefined;
}

function resources(spec: ContainerCreateRequest): Partial<HostConfig> {
  const r = spec.resources;
  if (!r) return {};
  return {
    Memory: r.memory,
    MemoryReservation: r.memoryReservation,
    MemorySwap: r.memorySwap,
    MemorySwappiness: r.memorySwappiness,
    NanoCpus: r.nanoCpus,
    CpuShares: r.cpuShares,
    CpuPeriod: r.cpuPeriod,
    CpuQuota: r.cpuQuota,
    CpusetCpus: r.cpusetCpus,
    CpusetMems: r.cpusetMems,
    PidsLimit: r.pidsLimit,
    ShmSize: r.shmSize,
    OomKillDisable: r.oomKillDisable,
    OomScoreAdj: r.oomScoreAdj,
    BlkioWeight: r.blkioWeight,
    Ulimits: r.ulimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
    Devices: r.devices?.map((d) => ({ PathOnHost: d.host, PathInContainer: d.container, CgroupPermissions: d.permissions })),
    DeviceCgroupRules: r.deviceCgroupRules,
  };
}

/** Docker treats a present-but-null field differently from a missing one; send only what is set. */
export function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) {
    const v = o[k];
    if (v === undefined) delete o[k];
    else if (v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)) dropUndefined(v as object);
  }
  return o;
}
