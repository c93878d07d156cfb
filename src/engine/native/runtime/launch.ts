import { readdirSync, existsSync, lstatSync } from 'node:fs';
import { UserError } from '../../../util/errors.js';
import { HelperConfig, helperPath } from './helper.js';
import type { OpKind } from './helper-protocol.js';
import { capHex, resolveCapabilities } from './caps.js';
import { cachedSeccompFilter } from './seccomp-cache.js';
import type { CgroupDriver } from './cgroups/index.js';
import { deviceFilterFor } from './cgroups/device-filter.js';
import type { ContainerPaths, ContainerRecord } from './store.js';
import type { ExecUser } from './users.js';
import type { Ulimit } from './types.js';
import { allowedDevices, deviceOps, hostDevice, ownCgroupNamespace, ownNamespaces, sharedShm, shareLines, type SharedProcesses } from './namespaces.js';

/**
 * Every decision about how a container starts, written as the helper's
 * config: namespaces, the mount table (in order), devices, masked paths,
 * capabilities, seccomp, user, environment and command. The helper carries
 * it out literally.
 */

const CLONE_NEWNET = 0x40000000;
export const CLONE_NEWCGROUP = 0x02000000;

const RDONLY = 0x1;
const NOSUID = 0x2;
const NODEV = 0x4;
const NOEXEC = 0x8;

const hex = (n: number) => n.toString(16);

let masked: string[] | undefined;

/** Docker's masked paths (moby daemon/pkg/oci/defaults.go), plus each CPU's thermal_throttle. */
export function maskedPaths(): string[] {
  if (masked) return masked;
  const paths = [
    '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
    '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
    '/sys/devices/virtual/powercap',
  ];
  try {
    for (const cpu of readdirSync('/sys/devices/system/cpu')) {
      if (/^cpu\d+$/.test(cpu) && existsSync(`/sys/devices/system/cpu/${cpu}/thermal_throttle`)) {
        paths.push(`/sys/devices/system/cpu/${cpu}/thermal_throttle`);
      }
    }
  } catch { /* no sysfs: nothing more to mask */ }
  return (masked = paths);
}

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const DEVICES: Array<[string, number, number]> = [
  ['/dev/null', 1, 3], ['/dev/zero', 1, 5], ['/dev/full', 1, 7], ['/dev/random', 1, 8], ['/dev/urandom', 1, 9], ['/dev/tty', 5, 0],
];

const RLIMITS: Record<string, number> = {
  cpu: 0, fsize: 1, data: 2, stack: 3, core: 4, rss: 5, nproc: 6, nofile: 7, memlock: 8, as: 9, locks: 10,
  sigpending: 11, msgqueue: 12, nice: 13, rtprio: 14, rttime: 15,
};

/** Sysctls that belong to the container's own namespaces (Docker's validation). */
export function checkSysctl(name: string, hostNetwork: boolean): void {
  const ipc = /^(kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)|fs\.mqueue\..+)$/.test(name);
  const net = name.startsWith('net.');
  if (ipc || (net && !hostNetwork)) return;
  throw new UserError(`sysctl "${name}" is not allowed`, 1, net
    ? 'net.* sysctls cannot be set for a container on the host network'
    : 'only namespaced sysctls can be set: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* and net.*');
}

function ulimitLines(cfg: HelperConfig, ulimits: Ulimit[] = []): void {
  for (const u of ulimits) {
    const r = RLIMITS[u.name];
    if (r === undefined) throw new UserError(`unknown ulimit "${u.name}"`, 1, `use one of ${Object.keys(RLIMITS).join(', ')}`);
    cfg.add('rlimit', r, u.soft, u.hard);
  }
}

const filters = new Map<bigint, string>();

/** The filter depends on the capabilities only: made once per set and process, and kept across processes (seccomp-cache.ts). */
function seccompHex(caps: bigint): string {
  let hex = filters.get(caps);
  if (!hex) filters.set(caps, (hex = cachedSeccompFilter(caps).filter.toString('hex')));
  return hex;
}

/**
 * The process part shared by start and exec: user, capabilities, seccomp, no_new_privs, cwd, env, argv.
 * The filter is made for `seccompCaps` (default: the process's own): an `exec --privileged` keeps the
 * container's filter while it gets every capability, as Docker does.
 */
export function processLines(cfg: HelperConfig, p: {
  user: ExecUser; caps: bigint; seccomp: boolean; seccompCaps?: bigint; noNewPrivileges: boolean; cwd: string; env: string[]; argv: string[]; ulimits?: Ulimit[];
}): void {
  ulimitLines(cfg, p.ulimits);
  cfg.add('uid', p.user.uid).add('gid', p.user.gid).add('groups', ...p.user.groups);
  const c = capHex(p.caps);
  cfg.add('caps', c, c, c, '0', '0');
  if (p.noNewPrivileges) cfg.add('nnp', 1);
  if (p.seccomp) cfg.add('seccomp', seccompHex(p.seccompCaps ?? p.caps));
  cfg.add('cwd', p.cwd);
  for (const e of p.env) cfg.add('env', e);
  for (const a of p.argv) cfg.add('arg', a);
}

/** The environment PID 1 gets: HOSTNAME first, then the container's, then HOME and TERM when missing. */
export function processEnv(env: string[], hostname: string, home: string, tty: boolean): string[] {
  const has = (k: string) => env.some((e) => e.startsWith(`${k}=`));
  const out = [`HOSTNAME=${hostname}`, ...env.filter((e) => !e.startsWith('HOSTNAME='))];
  if (!has('PATH')) out.push('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  if (!has('HOME')) out.push(`HOME=${home}`);
  if (tty && !has('TERM')) out.push('TERM=xterm');
  return out;
}

export interface AttachOptions {
  stdin: boolean;
  rows?: number;
  cols?: number;
  /** Sizes follow on the helper's resize channel (a terminal that is not ours). */
  resize?: boolean;
}

/** The last field of a user's mount or bind: the helper refuses it inside /proc (and /sys, reached by a symlink). */
const USER_MOUNT = '1';

export function startConfig(
  rec: ContainerRecord, paths: ContainerPaths, cgroups: CgroupDriver, user: ExecUser, shared: SharedProcesses, attach?: AttachOptions,
): string {
  const spec = rec.spec;
  const network = spec.network ?? { mode: 'none' as const };
  const privileged = spec.privileged ?? false;
  const caps = resolveCapabilities(spec);
  const cfg = new HelperConfig();
  cfg.add('id', rec.id);
  cfg.add('rootfs', rec.rootfs.mergedDir).add('overlay', rec.rootfs.mountData).add('overlay_cwd', rec.rootfs.mountCwd);
  let clone = ownNamespaces(spec);
  if (network.mode === 'none') {
    clone |= CLONE_NEWNET;
    cfg.add('lo_up', 1);
  } else if (network.mode === 'netns') {
    cfg.add('netns', network.path);
  }
  cfg.add('clone', hex(clone));
  shareLines(cfg, shared);
  if (ownCgroupNamespace(spec)) cfg.add('cgroupns', 1);
  // uts: host: the host's own names, which the container must not change.
  if (!spec.namespaces?.uts) {
    cfg.add('hostname', rec.hostname);
    if (rec.domainname) cfg.add('domainname', rec.domainname);
  }
  for (const f of cgroups.procsFiles(rec.id)) cfg.add('cgroup', f);
  // v2's device list: attached by the helper before PID 1 exists. Privileged containers have none, as in Docker.
  const filterCgroup = privileged ? undefined : cgroups.deviceFilterCgroup(rec.id);
  if (filterCgroup) cfg.add('device_filter', filterCgroup, deviceFilterFor(allowedDevices(spec)).toString('hex'));
  const oom = cgroups.oomCounter(rec.id);
  if (oom) cfg.add('oom', oom.path, oom.key);
  cfg.add('log', paths.log).add('exit', paths.exit).add('pidfile', paths.pidfile);
  if (spec.log?.maxSize) {
    cfg.add('log_max_size', spec.log.maxSize).add('log_max_file', spec.log.maxFiles);
    if (spec.log.compress && spec.log.maxFiles > 1) cfg.add('log_compress', 1);
  }
  const tty = spec.tty ?? false;
  if (tty) cfg.add('tty', 1);
  if (attach) {
    cfg.add('attach', 1);
    if (attach.stdin) cfg.add('stdin', 1);
    if (attach.rows && attach.cols) cfg.add('rows', attach.rows).add('cols', attach.cols);
    if (attach.resize) cfg.add('resize', 1);
  } else if (spec.openStdin) {
    cfg.add('stdin', 1);
  }

  const op = (kind: OpKind, ...fields: Array<string | number>) => cfg.op(kind, ...fields);
  op('mount', 'proc', 'proc', '/proc', hex(NOSUID | NODEV | NOEXEC), '');
  op('mount', 'tmpfs', 'tmpfs', '/dev', hex(NOSUID), 'mode=755,size=65536k');
  op('mount', 'devpts', 'devpts', '/dev/pts', hex(NOSUID | NOEXEC), 'newinstance,ptmxmode=0666,mode=0620,gid=5');
  if (!sharedShm(op, spec.namespaces?.ipc, shared)) {
    op('mount', 'tmpfs', 'shm', '/dev/shm', hex(NOSUID | NODEV | NOEXEC), `mode=1777,size=${spec.shmSize ?? 64 * 1024 * 1024}`);
  }
  op('mount', 'mqueue', 'mqueue', '/dev/mqueue', hex(NOSUID | NODEV | NOEXEC), '');
  op('mount', 'sysfs', 'sysfs', '/sys', hex((privileged ? 0 : RDONLY) | NOSUID | NODEV | NOEXEC), '');
  cgroupMounts(op, cgroups, privileged);
  for (const [path, major, minor] of DEVICES) op('mknod', path, 'c', '0666', major, minor);
  if (privileged) for (const d of hostDevices()) op('mknod', d.path, d.type, d.mode.toString(8), d.major, d.minor);
  deviceOps(op, spec, rec.name, USER_MOUNT);
  op('symlink', '/proc/self/fd', '/dev/fd');
  op('symlink', '/proc/self/fd/0', '/dev/stdin');
  op('symlink', '/proc/self/fd/1', '/dev/stdout');
  op('symlink', '/proc/self/fd/2', '/dev/stderr');
  op('symlink', 'pts/ptmx', '/dev/ptmx');
  if (tty) op('console');

  const mounts = [...rec.mounts].sort((a, b) => depth(a.target) - depth(b.target));
  for (const m of mounts) {
    if (m.type === 'tmpfs') {
      const opts = [m.tmpfsSize ? `size=${m.tmpfsSize}` : '', m.tmpfsMode !== undefined ? `mode=${m.tmpfsMode.toString(8)}` : ''].filter(Boolean).join(',');
      op('mount', 'tmpfs', 'tmpfs', m.target, hex((m.readOnly ? RDONLY : 0) | NOSUID | NODEV | NOEXEC), opts, USER_MOUNT);
      continue;
    }
    if (m.type === 'volume' && m.copyUp) op('copyup', m.target, m.source);
    op('bind', m.source, m.target, hex(m.readOnly ? RDONLY : 0), '1', USER_MOUNT);
  }
  if (!mounts.some((m) => m.target === '/etc/hosts')) op('bind', paths.hosts, '/etc/hosts', '0', '0');
  if (!mounts.some((m) => m.target === '/etc/hostname')) op('bind', paths.hostname, '/etc/hostname', '0', '0');
  if (!mounts.some((m) => m.target === '/etc/resolv.conf')) op('bind', paths.resolvConf, '/etc/resolv.conf', '0', '0');
  if (spec.init) op('bind', helperPath('tsc-init'), '/sbin/docker-init', hex(RDONLY | NOSUID | NODEV), '0');
  if (rec.workingDir && rec.workingDir !== '/') op('mkdir', rec.workingDir, '0755');

  if (network.mode !== 'host') {
    op('sysctl', 'net/ipv4/ip_unprivileged_port_start', '0');
    op('sysctl', 'net/ipv4/ping_group_range', '0 2147483647');
  }
  for (const [k, v] of Object.entries(spec.sysctls ?? {})) {
    checkSysctl(k, network.mode === 'host');
    op('sysctl', k.replace(/\./g, '/'), v);
  }
  if (!privileged) {
    for (const p of maskedPaths()) op('mask', p);
    for (const p of READONLY_PATHS) op('ro', p);
  }
  if (spec.readOnlyRootfs) op('setattr', '/', hex(RDONLY));

  if (spec.resources?.oomScoreAdj !== undefined) cfg.add('oom_score_adj', spec.resources.oomScoreAdj);
  const argv = spec.init ? ['/sbin/docker-init', '--', rec.path, ...rec.args] : [rec.path, ...rec.args];
  processLines(cfg, {
    user,
    caps,
    seccomp: !privileged && spec.seccomp !== 'unconfined',
    noNewPrivileges: spec.noNewPrivileges ?? false,
    cwd: rec.workingDir || '/',
    env: processEnv(rec.env, rec.hostname, user.home, tty),
    argv,
    ulimits: spec.ulimits,
  });
  return cfg.text();
}

/** The host's device nodes under /dev (one level, as `--privileged` exposes them), minus our defaults. */
function hostDevices(): Array<{ path: string; type: 'c' | 'b'; mode: number; major: number; minor: number }> {
  const out: Array<{ path: string; type: 'c' | 'b'; mode: number; major: number; minor: number }> = [];
  const skip = new Set(DEVICES.map(([p]) => p));
  for (const name of readdirSync('/dev')) {
    const path = `/dev/${name}`;
    if (skip.has(path) || name === 'console' || name === 'ptmx') continue;
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue;
    }
    const dev = hostDevice(st);
    if (dev) out.push({ path, ...dev });
  }
  return out;
}

function depth(path: string): number {
  return path.split('/').filter(Boolean).length;
}

/** /sys/fs/cgroup as Docker shows it: the container's own cgroups (via its cgroup namespace), read-only. */
function cgroupMounts(op: (kind: OpKind, ...f: Array<string | number>) => unknown, cgroups: CgroupDriver, privileged: boolean): void {
  const ro = privileged ? 0 : RDONLY;
  const flags = hex(ro | NOSUID | NODEV | NOEXEC);
  if (cgroups.version === 2) {
    op('mount', 'cgroup2', 'cgroup2', '/sys/fs/cgroup', flags, '');
    return;
  }
  op('mount', 'tmpfs', 'tmpfs', '/sys/fs/cgroup', hex(NOSUID | NODEV | NOEXEC), 'mode=755');
  for (const h of cgroups.hierarchyMounts()) op('mount', 'cgroup', 'cgroup', `/sys/fs/cgroup/${h.dir}`, flags, h.options);
  if (!privileged) op('setattr', '/sys/fs/cgroup', hex(RDONLY | NOSUID | NODEV | NOEXEC));
}
