import { isAbsolute } from 'node:path';
import type {
  ContainerCreateRequest, HealthcheckConfig, MountRequest, NetworkAttachment, PortMapping, PortProtocol, Resources, RestartPolicyName,
} from '../../engine/types.js';
import { badRequest } from '../http.js';
import { Fields, items, type Json } from '../body.js';

/**
 * The body of `POST /containers/create` (Docker's Config with HostConfig
 * and NetworkingConfig) as the Engine's ContainerCreateRequest. Go clients
 * send every field with its zero value ("", 0, false, null, []): zero means
 * unset. What the native engine cannot honour is refused with the field
 * named; what it does not know is refused too (see body.ts).
 */

const CONFIG = [
  'Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty', 'OpenStdin', 'StdinOnce',
  'Env', 'Cmd', 'Healthcheck', 'ArgsEscaped', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint', 'NetworkDisabled', 'MacAddress', 'OnBuild',
  'Labels', 'StopSignal', 'StopTimeout', 'Shell', 'HostConfig', 'NetworkingConfig',
  // dockerode sends its options as the body too: the name (also in the query) and the platform.
  'name', 'platform',
];

const HOST_CONFIG = [
  'Binds', 'ContainerIDFile', 'LogConfig', 'NetworkMode', 'PortBindings', 'RestartPolicy', 'AutoRemove', 'VolumeDriver', 'VolumesFrom',
  'ConsoleSize', 'Annotations', 'CapAdd', 'CapDrop', 'CgroupnsMode', 'Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts', 'GroupAdd', 'IpcMode',
  'Cgroup', 'Links', 'OomScoreAdj', 'PidMode', 'Privileged', 'PublishAllPorts', 'ReadonlyRootfs', 'SecurityOpt', 'StorageOpt', 'Tmpfs',
  'UTSMode', 'UsernsMode', 'ShmSize', 'Sysctls', 'Runtime', 'Isolation', 'CpuShares', 'Memory', 'NanoCpus', 'CgroupParent', 'BlkioWeight',
  'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'CpuPeriod', 'CpuQuota',
  'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'KernelMemory',
  'KernelMemoryTCP', 'MemoryReservation', 'MemorySwap', 'MemorySwappiness', 'OomKillDisable', 'PidsLimit', 'Ulimits', 'CpuCount', 'CpuPercent',
  'IOMaximumIOps', 'IOMaximumBandwidth', 'Mounts', 'MaskedPaths', 'ReadonlyPaths', 'Init',
];

export const ENDPOINT = [
  'IPAMConfig', 'Links', 'Aliases', 'MacAddress', 'DriverOpts', 'GwPriority', 'NetworkID', 'EndpointID', 'Gateway', 'IPAddress', 'IPPrefixLen',
  'IPv6Gateway', 'GlobalIPv6Address', 'GlobalIPv6PrefixLen', 'DNSNames',
];
export const IPAM_CONFIG = ['IPv4Address', 'IPv6Address', 'LinkLocalIPs'];
const HEALTHCHECK = ['Test', 'Interval', 'Timeout', 'Retries', 'StartPeriod', 'StartInterval'];
const MOUNT = ['Type', 'Source', 'Target', 'ReadOnly', 'Consistency', 'BindOptions', 'VolumeOptions', 'TmpfsOptions', 'ImageOptions'];
const BIND_OPTIONS = ['Propagation', 'NonRecursive', 'CreateMountpoint', 'ReadOnlyNonRecursive', 'ReadOnlyForceRecursive'];
const VOLUME_OPTIONS = ['NoCopy', 'Labels', 'DriverConfig', 'Subpath'];
const TMPFS_OPTIONS = ['SizeBytes', 'Mode', 'Options'];
const NS_PER_MS = 1_000_000;

export interface CreateBody {
  request: ContainerCreateRequest;
  /** `PublishAllPorts`: every exposed port (the image's too) gets a host port; the caller knows the image. */
  publishAll: boolean;
}

export function parseCreateBody(body: Json, name: string | undefined): CreateBody {
  const c = new Fields(body, '', CONFIG);
  const image = c.text('Image');
  if (!image) throw badRequest('Config.Image is empty: give the image to create the container from');
  const h = c.sub('HostConfig', HOST_CONFIG) ?? new Fields({}, 'HostConfig', HOST_CONFIG);
  refuseUnsupported(c, h);
  const mounts = [...binds(h), ...mountsOf(h), ...anonymousVolumes(c)];
  const network = networking(c, h);
  const ports = portBindings(h);
  const exposed = Object.keys(c.obj('ExposedPorts') ?? {});
  const restart = restartPolicy(h);
  const log = h.sub('LogConfig', ['Type', 'Config']);
  const request: ContainerCreateRequest = {
    ...(name ? { name } : {}),
    image,
    labels: c.map('Labels') ?? {},
    ...entrypointAndCmd(c),
    ...(c.has('Env') ? { env: envMap(c.strings('Env')!) } : {}),
    ...opt('user', c.text('User')),
    ...opt('workingDir', c.text('WorkingDir')),
    ...opt('hostname', c.text('Hostname')),
    ...opt('domainname', c.text('Domainname')),
    ...(mounts.length ? { mounts: dedupeTargets(mounts) } : {}),
    ...(h.strings('VolumesFrom')?.length ? { volumesFrom: h.strings('VolumesFrom')! } : {}),
    ...(ports.length ? { ports } : {}),
    ...(exposed.length ? { exposedPorts: exposed } : {}),
    ...network,
    ...(h.strings('Links')?.length ? { links: h.strings('Links')!.map(legacyLink) } : {}),
    ...healthcheckOf(c),
    ...(restart ? { restart } : {}),
    ...resourcesOf(h),
    ...opt('stopSignal', c.text('StopSignal')),
    ...opt('stopTimeout', c.num('StopTimeout')),
    ...opt('init', h.bool('Init') ?? undefined),
    ...list('capAdd', h.strings('CapAdd')),
    ...list('capDrop', h.strings('CapDrop')),
    ...opt('privileged', h.bool('Privileged') || undefined),
    ...opt('readOnly', h.bool('ReadonlyRootfs') || undefined),
    ...list('securityOpt', h.strings('SecurityOpt')),
    ...list('extraHosts', h.strings('ExtraHosts')),
    ...list('dns', h.strings('Dns')),
    ...list('dnsSearch', h.strings('DnsSearch')),
    ...list('dnsOptions', h.strings('DnsOptions')),
    ...map('sysctls', h.map('Sysctls')),
    ...opt('tty', c.bool('Tty') || undefined),
    ...opt('openStdin', c.bool('OpenStdin') || undefined),
    ...opt('stdinOnce', c.bool('StdinOnce') || undefined),
    ...opt('ipc', nonDefault(h.text('IpcMode'), 'private')),
    ...opt('pid', h.text('PidMode')),
    ...opt('uts', h.text('UTSMode')),
    ...opt('cgroup', h.text('CgroupnsMode')),
    ...opt('cgroupParent', h.text('CgroupParent')),
    ...list('groupAdd', h.strings('GroupAdd')),
    ...(log?.text('Type') ? { logging: { driver: log.text('Type')!, options: log.map('Config') ?? {} } } : {}),
    ...opt('platform', c.text('platform')),
    ...opt('runtime', h.text('Runtime')),
    ...opt('userns', h.text('UsernsMode')),
    ...opt('macAddress', c.text('MacAddress')),
    ...map('tmpfs', h.map('Tmpfs')),
    ...opt('autoRemove', h.bool('AutoRemove') || undefined),
  };
  return { request, publishAll: h.bool('PublishAllPorts') ?? false };
}

function opt<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}

function list<K extends string>(key: K, value: string[] | undefined): { [k in K]?: string[] } {
  return (value?.length ? { [key]: value } : {}) as { [k in K]?: string[] };
}

function map<K extends string>(key: K, value: Record<string, string> | undefined): { [k in K]?: Record<string, string> } {
  return (value && Object.keys(value).length ? { [key]: value } : {}) as { [k in K]?: Record<string, string> };
}

function nonDefault(v: string | undefined, dflt: string): string | undefined {
  return v === dflt ? undefined : v;
}

function refuseUnsupported(c: Fields, h: Fields): void {
  c.refuse('NetworkDisabled', 'give HostConfig.NetworkMode "none" instead');
  c.refuse('OnBuild', 'ONBUILD triggers belong in a Dockerfile');
  c.refuse('Shell', 'the shell form of a container config is for builds');
  h.refuse('VolumeDriver', 'volumes use the local driver', ['local']);
  h.refuse('Annotations', 'annotations are for OCI runtimes other than ours');
  h.refuse('Cgroup', 'joining another container\'s cgroup is not supported; CgroupnsMode "host" or "private" is');
  h.refuse('StorageOpt', 'the overlay has no per-container size options');
  h.refuse('Isolation', 'isolation modes are for Windows', ['default']);
  for (const k of ['BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps']) h.refuse(k, 'per-device I/O limits are not applied; BlkioWeight is');
  for (const k of ['CpuRealtimePeriod', 'CpuRealtimeRuntime']) h.refuse(k, 'real-time CPU scheduling is not set up');
  h.refuse('DeviceRequests', 'GPUs and other device requests are not supported');
  h.refuse('KernelMemory', 'kernel memory limits are deprecated and not applied');
  h.refuse('KernelMemoryTCP', 'kernel TCP memory is not limited');
  for (const k of ['CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth']) h.refuse(k, 'it is a Windows option');
  h.refuse('MaskedPaths', 'the masked paths are Docker\'s defaults (give Privileged to lift them)');
  h.refuse('ReadonlyPaths', 'the read-only paths are Docker\'s defaults (give Privileged to lift them)');
  const console = h.list('ConsoleSize');
  if (console && (console.length !== 2 || console.some((n) => typeof n !== 'number'))) throw badRequest('invalid HostConfig.ConsoleSize: expected [height, width]');
}

/** Docker's `KEY=value` list; a bare `KEY` (no `=`) unsets nothing here and is dropped, as dockerd keeps no empty entry. */
function envMap(env: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    const i = e.indexOf('=');
    if (i <= 0) {
      if (i === 0) throw badRequest(`invalid environment variable "${e}": the name is empty`);
      continue;
    }
    out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

/** Docker's merge with the image: a null Entrypoint keeps the image's, an empty one clears it; an empty Cmd is the image's. */
function entrypointAndCmd(c: Fields): Pick<ContainerCreateRequest, 'entrypoint' | 'cmd'> {
  const entrypoint = c.strings('Entrypoint', true);
  const cmd = c.strings('Cmd', true);
  return {
    ...(entrypoint !== undefined ? { entrypoint: entrypoint.length === 1 && entrypoint[0] === '' ? [] : entrypoint } : {}),
    ...(cmd?.length ? { cmd } : {}),
  };
}

/** `HostConfig.Binds`: "SRC:DST[:OPTS]", an absolute SRC being a host path (made when missing, as dockerd does), else a volume name. */
function binds(h: Fields): MountRequest[] {
  return (h.strings('Binds') ?? []).map((b) => {
    const parts = b.split(':');
    if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) throw badRequest(`invalid bind "${b}" in HostConfig.Binds: write SOURCE:TARGET[:OPTIONS]`);
    const [source, target, opts = ''] = parts as [string, string, string?];
    if (!isAbsolute(target)) throw badRequest(`invalid bind "${b}" in HostConfig.Binds: the target ${target} is not an absolute path`);
    const m: MountRequest = { type: isAbsolute(source) ? 'bind' : 'volume', source, target };
    for (const o of opts.split(',').filter(Boolean)) {
      if (o === 'ro') m.readOnly = true;
      else if (o === 'rw' || o === 'z' || o === 'Z' || ['consistent', 'cached', 'delegated'].includes(o)) continue;
      else if (o === 'nocopy' && m.type === 'volume') m.noCopy = true;
      else if (['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'].includes(o) && m.type === 'bind') m.propagation = o;
      else throw badRequest(`invalid option "${o}" of bind "${b}" in HostConfig.Binds`);
    }
    if (m.type === 'bind') m.createHostPath = true;
    return m;
  });
}

function mountsOf(h: Fields): MountRequest[] {
  return items(h, 'Mounts', MOUNT).map((m) => {
    const type = m.text('Type');
    const target = m.text('Target');
    if (!target || !isAbsolute(target)) throw badRequest(`${m.name('Target')} must be an absolute path`);
    if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
      throw badRequest(`${m.name('Type')} "${type ?? ''}" is not supported by the native engine: use bind, volume or tmpfs`);
    }
    m.refuse('ImageOptions', 'image mounts are not supported');
    const out: MountRequest = { type, target, ...(m.text('Source') ? { source: m.text('Source')! } : {}), ...(m.bool('ReadOnly') ? { readOnly: true } : {}) };
    const bind = m.sub('BindOptions', BIND_OPTIONS);
    if (bind) {
      bind.refuse('NonRecursive', 'binds are recursive');
      bind.refuse('ReadOnlyNonRecursive', 'read-only binds are made read-only as the kernel allows');
      if (bind.text('Propagation')) out.propagation = bind.text('Propagation')!;
      if (bind.bool('CreateMountpoint')) out.createHostPath = true;
    }
    const vol = m.sub('VolumeOptions', VOLUME_OPTIONS);
    if (vol) {
      vol.refuse('DriverConfig', 'volumes use the local driver');
      vol.refuse('Labels', 'give the labels to the volume when creating it');
      if (vol.bool('NoCopy')) out.noCopy = true;
      if (vol.text('Subpath')) out.subpath = vol.text('Subpath')!;
    }
    const tmpfs = m.sub('TmpfsOptions', TMPFS_OPTIONS);
    if (tmpfs) {
      tmpfs.refuse('Options', 'tmpfs mounts take a size and a mode');
      if (tmpfs.count('SizeBytes') !== undefined) out.tmpfsSize = tmpfs.num('SizeBytes')!;
      if (tmpfs.count('Mode') !== undefined) out.tmpfsMode = tmpfs.num('Mode')!;
    }
    return out;
  });
}

/** `Config.Volumes`: anonymous volumes at those targets (unless a bind or mount covers them). */
function anonymousVolumes(c: Fields): MountRequest[] {
  return Object.keys(c.obj('Volumes') ?? {}).map((target) => ({ type: 'volume' as const, target }));
}

/** One mount per target, the explicit ones (listed first) winning over anonymous volumes. */
function dedupeTargets(mounts: MountRequest[]): MountRequest[] {
  const seen = new Set<string>();
  return mounts.filter((m) => {
    const t = m.target.replace(/\/+$/, '') || '/';
    if (seen.has(t)) {
      if (m.type === 'volume' && !m.source) return false;
      throw badRequest(`duplicate mount point: ${m.target}`);
    }
    seen.add(t);
    return true;
  });
}

function portBindings(h: Fields): PortMapping[] {
  const out: PortMapping[] = [];
  for (const [key, value] of Object.entries(h.obj('PortBindings') ?? {})) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i.exec(key);
    if (!m) throw badRequest(`invalid port "${key}" in HostConfig.PortBindings: write PORT[/PROTOCOL], e.g. 80/tcp`);
    const protocol = (m[3]?.toLowerCase() ?? 'tcp') as PortProtocol;
    if (value === null) continue;
    if (!Array.isArray(value)) throw badRequest(`invalid HostConfig.PortBindings["${key}"]: expected a list of {HostIp, HostPort}`);
    for (const b of value as unknown[]) {
      const f = new Fields((b ?? {}) as Json, `HostConfig.PortBindings["${key}"]`, ['HostIp', 'HostPort']);
      // "0" and "" both let the engine pick a free port (testcontainers sends "0").
      const published = f.text('HostPort') === '0' ? undefined : f.text('HostPort');
      if (published !== undefined && !/^\d{1,5}(-\d{1,5})?$/.test(published)) throw badRequest(`invalid host port "${published}" for ${key}`);
      out.push({ target: Number(m[1]), protocol, ...(published ? { published } : {}), ...(f.text('HostIp') ? { hostIp: f.text('HostIp')! } : {}) });
    }
  }
  return out;
}

/** `NetworkMode` and `NetworkingConfig.EndpointsConfig`: the default bridge, host, none, another container's, or networks by name. */
function networking(c: Fields, h: Fields): Pick<ContainerCreateRequest, 'networkMode' | 'networks'> {
  const mode = h.text('NetworkMode') ?? 'default';
  const nc = c.sub('NetworkingConfig', ['EndpointsConfig']);
  const endpoints = Object.entries(nc?.obj('EndpointsConfig') ?? {}).map(([network, v]) => endpoint(network, new Fields((v ?? {}) as Json, `NetworkingConfig.EndpointsConfig.${network}`, ENDPOINT)));
  if (mode === 'default' || mode === 'bridge') {
    if (endpoints.some((e) => e.network !== 'bridge')) throw badRequest('NetworkingConfig names a network the container is not on: with the default NetworkMode, only "bridge"');
    return { networkMode: 'bridge' };
  }
  if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) {
    if (endpoints.length) throw badRequest(`NetworkingConfig cannot be given with NetworkMode ${mode}`);
    return { networkMode: mode };
  }
  const first = endpoints.find((e) => e.network === mode) ?? { network: mode };
  const others = endpoints.filter((e) => e.network !== mode);
  return { networks: [first, ...others] };
}

export function endpoint(network: string, e: Fields): NetworkAttachment {
  const ipam = e.sub('IPAMConfig', IPAM_CONFIG);
  const linkLocal = ipam?.strings('LinkLocalIPs');
  return {
    network,
    ...(e.strings('Aliases')?.length ? { aliases: e.strings('Aliases')! } : {}),
    ...(ipam?.text('IPv4Address') ? { ipv4Address: ipam.text('IPv4Address')! } : {}),
    ...(ipam?.text('IPv6Address') ? { ipv6Address: ipam.text('IPv6Address')! } : {}),
    ...(linkLocal?.length ? { linkLocalIps: linkLocal } : {}),
    ...(e.text('MacAddress') ? { macAddress: e.text('MacAddress')! } : {}),
    ...map('driverOpts', e.map('DriverOpts')),
  };
}

/** "/name:/container/alias" (dockerd's stored form) or "name:alias" as the Engine's "name:alias". */
function legacyLink(l: string): string {
  const [name, alias] = l.split(':') as [string, string?];
  const strip = (s: string) => s.replace(/^\//, '').split('/').pop()!;
  return alias ? `${strip(name)}:${strip(alias)}` : strip(name);
}

function healthcheckOf(c: Fields): { healthcheck?: HealthcheckConfig } {
  const h = c.sub('Healthcheck', HEALTHCHECK);
  if (!h) return {};
  const test = h.strings('Test') ?? [];
  const ms = (k: string) => {
    const v = h.count(k);
    if (v === undefined) return undefined;
    if (v < 0) throw badRequest(`${h.name(k)} cannot be negative`);
    return v / NS_PER_MS;
  };
  // A healthcheck that only sets timings inherits the image's test (Docker's merge): the Engine merges an empty test.
  return {
    healthcheck: {
      test,
      ...opt('interval', ms('Interval')),
      ...opt('timeout', ms('Timeout')),
      ...opt('retries', h.count('Retries')),
      ...opt('startPeriod', ms('StartPeriod')),
      ...opt('startInterval', ms('StartInterval')),
    },
  };
}

function restartPolicy(h: Fields): { name: RestartPolicyName; maxRetries?: number } | undefined {
  const r = h.sub('RestartPolicy', ['Name', 'MaximumRetryCount']);
  const name = r?.text('Name');
  if (!r || !name) return undefined;
  if (!['no', 'always', 'on-failure', 'unless-stopped'].includes(name)) throw badRequest(`invalid restart policy '${name}'`);
  const max = r.count('MaximumRetryCount');
  return { name: name as RestartPolicyName, ...(max !== undefined ? { maxRetries: max } : {}) };
}

function resourcesOf(h: Fields): { resources?: Resources } {
  const ulimits = items(h, 'Ulimits', ['Name', 'Soft', 'Hard']).map((u) => ({ name: u.text('Name') ?? '', soft: u.num('Soft') ?? 0, hard: u.num('Hard') ?? 0 }));
  const devices = items(h, 'Devices', ['PathOnHost', 'PathInContainer', 'CgroupPermissions']).map((d) => ({
    host: d.text('PathOnHost') ?? '', container: d.text('PathInContainer') ?? d.text('PathOnHost') ?? '', permissions: d.text('CgroupPermissions') ?? 'rwm',
  }));
  const swappiness = h.num('MemorySwappiness');
  const r: Resources = {
    ...opt('memory', h.count('Memory')),
    ...opt('memoryReservation', h.count('MemoryReservation')),
    ...opt('memorySwap', h.count('MemorySwap')),
    ...opt('memorySwappiness', swappiness !== undefined && swappiness >= 0 ? swappiness : undefined),
    ...opt('nanoCpus', h.count('NanoCpus')),
    ...opt('cpuShares', h.count('CpuShares')),
    ...opt('cpuPeriod', h.count('CpuPeriod')),
    ...opt('cpuQuota', h.count('CpuQuota')),
    ...opt('cpusetCpus', h.text('CpusetCpus')),
    ...opt('cpusetMems', h.text('CpusetMems')),
    ...opt('pidsLimit', (h.num('PidsLimit') ?? 0) > 0 ? h.num('PidsLimit') : undefined),
    ...opt('shmSize', h.count('ShmSize')),
    ...opt('oomKillDisable', h.bool('OomKillDisable') || undefined),
    ...opt('oomScoreAdj', h.count('OomScoreAdj')),
    ...opt('blkioWeight', h.count('BlkioWeight')),
    ...(ulimits.length ? { ulimits } : {}),
    ...(devices.length ? { devices } : {}),
    ...(h.strings('DeviceCgroupRules')?.length ? { deviceCgroupRules: h.strings('DeviceCgroupRules')! } : {}),
  };
  return Object.keys(r).length ? { resources: r } : {};
}
