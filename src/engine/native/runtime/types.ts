/**
 * The container runtime's public types. A ContainerConfig knows nothing of
 * Compose: projects, services and replicas reach the runtime only as labels.
 * Sizes are bytes, durations seconds (as Docker takes stop timeouts), times
 * ISO-8601 strings with nanoseconds in inspect output, as Docker prints them.
 */

export interface ContainerMount {
  type: 'bind' | 'volume' | 'tmpfs';
  /** bind: host path; volume: volume name (empty or missing: a new anonymous volume); tmpfs: unused. */
  source?: string;
  target: string;
  readOnly?: boolean;
  options?: {
    /** bind: create a missing host directory (docker -v does; --mount does not). */
    createHostPath?: boolean;
    /** volume: don't copy the image's content into an empty volume. */
    noCopy?: boolean;
    /** tmpfs: size in bytes (default: unlimited, half of RAM as the kernel decides). */
    tmpfsSize?: number;
    /** tmpfs: mode, e.g. 0o1777. */
    tmpfsMode?: number;
  };
}

export interface ContainerResources {
  /** Bytes. */
  memory?: number;
  /** Memory + swap in bytes; -1 unlimited; unset: twice `memory`, as Docker does. */
  memorySwap?: number;
  memoryReservation?: number;
  /** Fractional CPUs (1.5 = one and a half cores), mapped to a CFS quota. */
  cpus?: number;
  cpuShares?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  pidsLimit?: number;
  oomScoreAdj?: number;
  /** CPUs and memory nodes ("0-2,4"), as --cpuset-cpus / --cpuset-mems. */
  cpusetCpus?: string;
  cpusetMems?: string;
  /** 10..1000, as --blkio-weight; applied where the kernel has an I/O weight. */
  blkioWeight?: number;
}

export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

/**
 * How the container reaches a network. `netns` joins a namespace made by
 * src/network (a bind-mounted handle) and takes the /etc/hosts and
 * /etc/resolv.conf content that module computed.
 */
export type ContainerNetwork =
  | { mode: 'none' }
  | { mode: 'host' }
  | { mode: 'netns'; path: string; hosts: string; resolvConf: string };

/** A namespace shared instead of made: the host's, or another container's (by id). */
export type SharedNamespace = 'host' | { container: string };

/** pid, ipc and uts namespaces; absent: the container's own (Docker's "private"). uts is shared with the host only, as in Docker. */
export interface NamespaceModes {
  pid?: SharedNamespace;
  ipc?: SharedNamespace;
  uts?: 'host';
  /** The host's cgroup namespace, which shows the container its cgroup's full path (else its own, where the kernel has them). */
  cgroup?: 'host';
}

/** A host device node made available in the container, with its cgroup permissions (some of "rwm"). */
export interface DeviceMapping {
  host: string;
  container: string;
  permissions: string;
}

export interface ContainerConfig {
  /** Unique; generated (adjective_noun) when missing. */
  name?: string;
  /** An image reference the image store resolves. */
  image: string;
  /** undefined keeps the image's Cmd; [] clears it. */
  cmd?: string[];
  /** undefined keeps the image's Entrypoint; [] clears it. */
  entrypoint?: string[];
  /** "KEY=value" entries, added to the image's environment (later wins). */
  env?: string[];
  workingDir?: string;
  /** "user", "uid", "user:group", "uid:gid", resolved against the container's /etc/passwd and /etc/group. */
  user?: string;
  /** Extra supplementary groups (names or gids). */
  groupAdd?: string[];
  hostname?: string;
  domainname?: string;
  tty?: boolean;
  openStdin?: boolean;
  labels?: Record<string, string>;
  mounts?: ContainerMount[];
  readOnlyRootfs?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  noNewPrivileges?: boolean;
  /** 'default' (a deny-list of the syscalls Docker's profile refuses) or 'unconfined'. */
  seccomp?: 'default' | 'unconfined';
  /** Run tsc-init as PID 1 (reaps zombies, forwards signals). */
  init?: boolean;
  resources?: ContainerResources;
  /** "SIGTERM", "TERM" or "15"; default: the image's StopSignal, else SIGTERM. */
  stopSignal?: string;
  /** Seconds; default 10. */
  stopTimeout?: number;
  /** /dev/shm size in bytes; default 64 MiB. */
  shmSize?: number;
  /** The log's cap: the live file is rotated at maxSize bytes (0: never), maxFiles files kept in all. */
  log?: { maxSize: number; maxFiles: number; compress?: boolean };
  sysctls?: Record<string, string>;
  ulimits?: Ulimit[];
  /** "host:ip" entries added to /etc/hosts. */
  extraHosts?: string[];
  network?: ContainerNetwork;
  namespaces?: NamespaceModes;
  devices?: DeviceMapping[];
  /** Device cgroup rules allowed beyond the defaults ("c 1:3 mr", "a *:* rwm"), as Docker's --device-cgroup-rule. */
  deviceCgroupRules?: string[];
  /** resolv.conf for `none` and `host` networks (a netns network brings its own). */
  dns?: { servers?: string[]; search?: string[]; options?: string[] };
  /** Remove the container when it exits (`run --rm`); done by whoever waits for it, or by the next `list`. */
  autoRemove?: boolean;
}

export type ContainerStatus = 'created' | 'running' | 'exited' | 'removing' | 'dead';

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** `docker inspect`'s shape, for the fields a user or the orchestrator reads. */
export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  /** The overlay's directories, as Docker's overlay2 reports them. */
  GraphDriver: { Name: string; Data: { LowerDir: string; MergedDir: string; UpperDir: string; WorkDir: string } };
  HostConfig: {
    AutoRemove: boolean;
    Privileged: boolean;
    ReadonlyRootfs: boolean;
    CapAdd: string[] | null;
    CapDrop: string[] | null;
    Init: boolean | null;
    Memory: number;
    MemorySwap: number;
    MemoryReservation: number;
    NanoCpus: number;
    CpuShares: number;
    CpusetCpus: string;
    CpusetMems: string;
    BlkioWeight: number;
    PidsLimit: number | null;
    NetworkMode: string;
    PidMode: string;
    IpcMode: string;
    UTSMode: string;
    Devices: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }>;
    DeviceCgroupRules: string[] | null;
    ShmSize: number;
    Sysctls: Record<string, string> | null;
    SecurityOpt: string[] | null;
  };
  Mounts: MountPoint[];
  Config: {
    Hostname: string;
    Domainname: string;
    User: string;
    Tty: boolean;
    OpenStdin: boolean;
    Env: string[];
    Cmd: string[] | null;
    Image: string;
    Volumes: Record<string, object> | null;
    WorkingDir: string;
    Entrypoint: string[] | null;
    Labels: Record<string, string>;
    StopSignal?: string;
    StopTimeout?: number;
  };
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  /** Seconds since the epoch, as Docker's API gives it. */
  Created: number;
  State: ContainerStatus;
  Status: string;
  Labels: Record<string, string>;
  Mounts: MountPoint[];
}

export interface ListOptions {
  all?: boolean;
  /** Every key must be present; a defined value must match. */
  labels?: Record<string, string | undefined>;
  /** Substring of the name, as `docker ps --filter name=` matches. */
  name?: string;
  status?: ContainerStatus[];
}

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, UTC. */
  time: string;
  /** Without its newline. */
  line: string;
  /** True when no newline followed (a piece of a long line, or the last bytes before exit). */
  partial: boolean;
}

export interface LogOptions {
  follow?: boolean;
  /** The last N lines only. */
  tail?: number;
  /** Only entries at or after this time (ms since the epoch). */
  since?: number;
  /** Only entries before this time (ms since the epoch). */
  until?: number;
}

export interface ExecRequest {
  cmd: string[];
  env?: string[];
  user?: string;
  workingDir?: string;
  tty?: boolean;
  /** Keep stdin open (docker exec -i). */
  stdin?: boolean;
  detach?: boolean;
  privileged?: boolean;
  /** The terminal's size at the start (a tty whose terminal is not ours). */
  size?: { rows: number; cols: number };
  /** Sizes follow on the helper's resize channel (HelperRun.resize). */
  resize?: boolean;
}

/** A reading in the shape of Docker's stats API: the Engine contract's type. */
export type { ContainerStats } from '../../types.js';

export interface ExitInfo {
  exitCode: number;
  oomKilled: boolean;
  finishedAt: string;
  error?: string;
}

export interface StopOptions {
  /** Seconds of grace before SIGKILL; default the container's stopTimeout (10); negative waits forever. */
  timeout?: number;
  signal?: string;
}

export interface RemoveOptions {
  force?: boolean;
  /** Also remove the container's anonymous volumes. */
  volumes?: boolean;
}

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}
