import { humanStatus } from '../../status.js';
import { capNames, resolveCapabilities } from './caps.js';
import { ContainerPaths, ZERO_TIME, type ContainerRecord, type DerivedStatus, type RuntimeState } from './store.js';
import type { ContainerInspect, ContainerSummary, MountPoint, SharedNamespace } from './types.js';

/** Docker's inspect and list shapes, built from a container's record and derived status. */

export function mountPoints(rec: ContainerRecord): MountPoint[] {
  return rec.mounts.map(dockerMountPoint);
}

/** One mount as Docker's inspect and list show it (also the API server's list, from the Engine's summaries). */
export function dockerMountPoint(m: { type: string; name?: string; source: string; target: string; readOnly: boolean }): MountPoint {
  return {
    Type: m.type,
    ...(m.name ? { Name: m.name } : {}),
    Source: m.source,
    Destination: m.target,
    ...(m.type === 'volume' ? { Driver: 'local' } : {}),
    Mode: m.type === 'volume' ? (m.readOnly ? 'ro' : 'z') : m.readOnly ? 'ro' : '',
    RW: !m.readOnly,
    Propagation: m.type === 'bind' ? 'rprivate' : '',
  } as MountPoint;
}

function networkMode(rec: ContainerRecord): string {
  const n = rec.spec.network ?? { mode: 'none' };
  return n.mode === 'netns' ? 'bridge' : n.mode;
}

export function toInspect(rec: ContainerRecord, state: RuntimeState, st: DerivedStatus): ContainerInspect {
  const paths = new ContainerPaths(rec.id);
  const spec = rec.spec;
  const r = spec.resources ?? {};
  const imageCmd = rec.image.config.Cmd ?? null;
  const securityOpt = [
    ...(spec.noNewPrivileges ? ['no-new-privileges'] : []),
    ...(spec.seccomp === 'unconfined' ? ['seccomp=unconfined'] : []),
  ];
  return {
    Id: rec.id,
    Created: rec.created,
    Path: rec.path,
    Args: rec.args,
    State: {
      Status: st.status,
      Running: st.status === 'running',
      Paused: false,
      Restarting: false,
      OOMKilled: st.oomKilled,
      Dead: false,
      Pid: st.pid,
      ExitCode: st.exitCode,
      Error: st.error,
      StartedAt: st.startedAt,
      FinishedAt: st.finishedAt,
    },
    Image: rec.image.id,
    ResolvConfPath: paths.resolvConf,
    HostnamePath: paths.hostname,
    HostsPath: paths.hosts,
    LogPath: paths.log,
    Name: `/${rec.name}`,
    RestartCount: state.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    GraphDriver: {
      Name: 'overlay2',
      Data: { LowerDir: rec.rootfs.lowerDirs.join(':'), MergedDir: rec.rootfs.mergedDir, UpperDir: rec.rootfs.upperDir, WorkDir: rec.rootfs.workDir },
    },
    HostConfig: {
      AutoRemove: spec.autoRemove ?? false,
      Privileged: spec.privileged ?? false,
      ReadonlyRootfs: spec.readOnlyRootfs ?? false,
      CapAdd: spec.capAdd?.length ? spec.capAdd : null,
      CapDrop: spec.capDrop?.length ? spec.capDrop : null,
      Init: spec.init ?? null,
      Memory: r.memory ?? 0,
      MemorySwap: r.memorySwap ?? 0,
      MemoryReservation: r.memoryReservation ?? 0,
      NanoCpus: r.cpus ? Math.round(r.cpus * 1e9) : 0,
      CpuShares: r.cpuShares ?? 0,
      CpusetCpus: r.cpusetCpus ?? '',
      CpusetMems: r.cpusetMems ?? '',
      BlkioWeight: r.blkioWeight ?? 0,
      PidsLimit: r.pidsLimit ?? null,
      NetworkMode: networkMode(rec),
      PidMode: namespaceMode(spec.namespaces?.pid, ''),
      IpcMode: namespaceMode(spec.namespaces?.ipc, 'private'),
      UTSMode: spec.namespaces?.uts ?? '',
      Devices: (spec.devices ?? []).map((d) => ({ PathOnHost: d.host, PathInContainer: d.container, CgroupPermissions: d.permissions })),
      DeviceCgroupRules: spec.deviceCgroupRules?.length ? spec.deviceCgroupRules : null,
      ShmSize: spec.shmSize ?? 64 * 1024 * 1024,
      Sysctls: spec.sysctls && Object.keys(spec.sysctls).length ? spec.sysctls : null,
      SecurityOpt: securityOpt.length ? securityOpt : null,
    },
    Mounts: mountPoints(rec),
    Config: {
      Hostname: rec.hostname,
      Domainname: rec.domainname,
      User: spec.user ?? '',
      Tty: spec.tty ?? false,
      OpenStdin: spec.openStdin ?? false,
      Env: rec.env,
      Cmd: spec.cmd ?? (spec.entrypoint !== undefined ? null : imageCmd),
      Image: rec.image.ref,
      Volumes: rec.image.config.Volumes ?? null,
      WorkingDir: spec.workingDir ?? rec.image.config.WorkingDir ?? '',
      Entrypoint: spec.entrypoint ?? rec.image.config.Entrypoint ?? null,
      Labels: spec.labels ?? {},
      StopSignal: rec.stopSignal,
      ...(spec.stopTimeout !== undefined ? { StopTimeout: spec.stopTimeout } : {}),
    },
  };
}

/** Docker's spelling of a namespace mode: "host", "container:<id>", or the default. */
function namespaceMode(mode: SharedNamespace | undefined, own: string): string {
  if (!mode) return own;
  return mode === 'host' ? 'host' : `container:${mode.container}`;
}

/** `docker ps`'s COMMAND, as the daemon builds it: arguments with a space in single quotes. */
export function commandLine(rec: ContainerRecord): string {
  return [rec.path, ...rec.args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
}

export function toSummary(rec: ContainerRecord, st: DerivedStatus, now = Date.now()): ContainerSummary {
  const started = st.startedAt === ZERO_TIME ? undefined : Date.parse(st.startedAt);
  const finished = st.finishedAt === ZERO_TIME ? undefined : Date.parse(st.finishedAt);
  return {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: rec.image.ref,
    ImageID: rec.image.id,
    Command: commandLine(rec),
    Created: Math.floor(Date.parse(rec.created) / 1000),
    State: st.status,
    Status: humanStatus(st.status, now, started, finished, st.exitCode),
    Labels: rec.spec.labels ?? {},
    Mounts: mountPoints(rec),
  };
}

/** The capabilities the container's root holds, by name (for tests and `inspect`-like tooling). */
export function effectiveCapabilities(rec: ContainerRecord): string[] {
  return capNames(resolveCapabilities(rec.spec));
}
