import { lstatSync, type Stats } from 'node:fs';
import { UserError } from '../../../util/errors.js';
import type { HelperConfig } from './helper.js';
import type { OpKind } from './helper-protocol.js';
import { deriveStatus, readRecord } from './store.js';
import { DEFAULT_DEVICE_RULES, type CgroupLimits } from './cgroups/types.js';
import { cgroupNamespaceSupported } from './cgroups/index.js';
import type { ContainerConfig, ContainerResources, DeviceMapping, SharedNamespace } from './types.js';

/**
 * Shared namespaces (pid, ipc, uts: `host` or another container's) and host
 * devices, as the helper's config says them. The helper joins another
 * container's namespaces through its PID 1 (pid and start time, so that a
 * reused pid is never joined); that process is looked up at each start.
 */

export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWPID = 0x20000000;

/** The running PID 1 of a container whose namespaces another one joins. */
export interface SharedProcess {
  pid: number;
  start: string;
}

export type SharedProcesses = Partial<Record<'pid' | 'ipc', SharedProcess>>;

/** Looks up, at start, the PID 1 of each container this one shares a namespace with; they must run (as Docker requires). */
export function sharedProcesses(spec: ContainerConfig, name: string): SharedProcesses {
  const out: SharedProcesses = {};
  for (const kind of ['pid', 'ipc'] as const) {
    const mode = spec.namespaces?.[kind];
    if (!mode || mode === 'host') continue;
    let other: string = mode.container;
    let st;
    try {
      other = readRecord(mode.container).name;
      st = deriveStatus(mode.container);
    } catch {
      throw new UserError(`container ${name}: ${kind}: container:${other} names a container that no longer exists`, 1, 'recreate this container (up --force-recreate)');
    }
    if (st.status !== 'running' || !st.monitor) {
      throw new UserError(`container ${name}: cannot join the ${kind.toUpperCase()} namespace of ${other}: it is not running`, 1, `start ${other} first`);
    }
    out[kind] = { pid: st.pid, start: st.monitor.initStart };
  }
  return out;
}

/** The CLONE_NEW* flags of the namespaces the container makes for itself (mount always; net is the caller's). */
export function ownNamespaces(spec: ContainerConfig): number {
  const ns = spec.namespaces ?? {};
  return CLONE_NEWNS | (ns.uts ? 0 : CLONE_NEWUTS) | (ns.ipc ? 0 : CLONE_NEWIPC) | (ns.pid ? 0 : CLONE_NEWPID);
}

/** Whether the container has a cgroup namespace of its own (exec joins it then). */
export function ownCgroupNamespace(spec: ContainerConfig): boolean {
  return spec.namespaces?.cgroup !== 'host' && cgroupNamespaceSupported();
}

/** The namespaces joined before the clone (`share` lines), one line per container shared with. */
export function shareLines(cfg: HelperConfig, shared: SharedProcesses): void {
  for (const [kind, flag] of [['pid', CLONE_NEWPID], ['ipc', CLONE_NEWIPC]] as const) {
    const p = shared[kind];
    if (p) cfg.add('share', flag.toString(16), p.pid, p.start);
  }
}

type Op = (kind: OpKind, ...fields: Array<string | number>) => unknown;

/**
 * /dev/shm: POSIX shared memory lives in a tmpfs, not in the IPC namespace,
 * so sharing IPC means sharing that tmpfs too, as Docker does: the host's for
 * `ipc: host`, the other container's own mount for `container:x`.
 * Returns false when the container gets a /dev/shm of its own.
 */
export function sharedShm(op: Op, mode: SharedNamespace | undefined, shared: SharedProcesses): boolean {
  if (mode === 'host') op('bind', '/dev/shm', '/dev/shm', '0', '0');
  else if (mode && shared.ipc) op('borrow', '/dev/shm', '/dev/shm');
  else return false;
  return true;
}

export interface HostDevice {
  type: 'c' | 'b';
  major: number;
  minor: number;
  mode: number;
}

/** A host path's device numbers, or undefined when it is not a device node. */
export function hostDevice(st: Stats): HostDevice | undefined {
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  // glibc's dev_t encoding (gnu_dev_major/minor).
  const rdev = BigInt(st.rdev);
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n));
  return { type: st.isBlockDevice() ? 'b' : 'c', major, minor, mode: st.mode & 0o777 };
}

/** A `devices:` entry checked against the host: a device node there, absolute paths, permissions out of "rwm". */
export function checkDevice(d: DeviceMapping, name: string): HostDevice {
  const where = `container ${name}: device ${d.host}`;
  if (!d.host.startsWith('/') || !d.container.startsWith('/')) {
    throw new UserError(`${where}: both paths must be absolute (${d.host}:${d.container})`, 1, 'write HOST:CONTAINER[:PERMISSIONS], e.g. /dev/fuse:/dev/fuse:rwm');
  }
  if (!/^[rwm]{1,3}$/.test(d.permissions) || new Set(d.permissions).size !== d.permissions.length) {
    throw new UserError(`${where}: invalid device permissions "${d.permissions}"`, 1, 'use some of r, w and m, e.g. rwm or r');
  }
  const st = lstatSync(d.host, { throwIfNoEntry: false });
  if (!st) throw new UserError(`${where}: no such device on this host`, 1, 'give the path of a device node under /dev');
  const dev = hostDevice(st);
  if (!dev) {
    throw new UserError(`${where}: not a device node${st.isDirectory() ? ' (a directory)' : ''}`, 1,
      st.isDirectory() ? 'list the devices in it one by one' : 'give the path of a character or block device under /dev');
  }
  return dev;
}

/**
 * Each device: the host's node bound at its place in the container (a bind
 * keeps the node usable wherever it lands, even below a root mounted nodev,
 * and shows the host's owner and mode, as Docker's copy does).
 */
export function deviceOps(op: Op, spec: ContainerConfig, name: string, userMount: string): void {
  for (const d of spec.devices ?? []) {
    checkDevice(d, name);
    op('bind', d.host, d.container, '0', '0', userMount);
  }
}

/** The device rules ("c 1:3 rw") of the container's `devices` and its `device_cgroup_rules`, beyond Docker's defaults. */
export function deviceRules(spec: ContainerConfig): string[] {
  const devices = (spec.devices ?? []).flatMap((d) => {
    const st = lstatSync(d.host, { throwIfNoEntry: false });
    const dev = st && hostDevice(st);
    return dev ? [`${dev.type} ${dev.major}:${dev.minor} ${d.permissions}`] : [];
  });
  return [...devices, ...(spec.deviceCgroupRules ?? [])];
}

/** Every device rule of a non-privileged container: Docker's defaults, then its own. */
export function allowedDevices(spec: ContainerConfig): string[] {
  return [...DEFAULT_DEVICE_RULES, ...deviceRules(spec)];
}

/** The cgroup limits of a container: its resources, and the devices it may use. */
export function cgroupLimits(spec: ContainerConfig, resources: ContainerResources): CgroupLimits {
  return { ...resources, allDevices: spec.privileged ?? false, deviceRules: deviceRules(spec) };
}
