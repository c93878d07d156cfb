/**
 * The Engine interface: what the planner and the CLI drive, implemented by the
 * native engine (own runtime, image store and network) and by the docker
 * backend (dockerode). The types are engine-neutral and carry Docker-like
 * semantics, so that they map onto Docker's API one to one and onto a runtime
 * that takes {image, cmd, env, mounts, labels, netns ...}.
 *
 * Engines know nothing of Compose: projects, services and replica numbers
 * reach them only as labels. Durations are milliseconds, sizes are bytes,
 * times are milliseconds since the epoch unless a field says otherwise.
 *
 * Errors: a missing object throws NotFoundError, a conflicting state (name in
 * use, network has endpoints, port taken) ConflictError, both from
 * src/util/errors.ts; anything else an EngineError naming the object.
 */
import type { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { UserError } from '../util/errors.js';

export type BackendName = 'native' | 'docker';

export type Labels = Record<string, string>;

/** Matches objects that carry every `key=value` (or just `key`, when the value is undefined). */
export interface LabelFilter {
  labels?: Record<string, string | undefined>;
}

// ---------------------------------------------------------------- containers

export type MountType = 'bind' | 'volume' | 'tmpfs';

export interface MountRequest {
  type: MountType;
  /** Host path (bind), volume name (volume; empty for an anonymous volume), unused for tmpfs. */
  source?: string;
  target: string;
  readOnly?: boolean;
  /** bind: rprivate, private, rshared, shared, rslave, slave. */
  propagation?: string;
  /** bind: create the host path when missing (Compose's default for short syntax). */
  createHostPath?: boolean;
  /** volume: do not copy the image's content into an empty volume. */
  noCopy?: boolean;
  /** volume: mount only this subdirectory of the volume. */
  subpath?: string;
  /** tmpfs: size in bytes and mode (octal number, e.g. 0o1777). */
  tmpfsSize?: number;
  tmpfsMode?: number;
}

/**
 * A file placed into the container before its first start (Compose's configs
 * and secrets with `content:` or `environment:`; file-backed ones are bind
 * mounts). The engine writes it at `target`, creating parent directories.
 */
export interface FileRequest {
  target: string;
  content: Buffer;
  mode: number;
  uid?: number;
  gid?: number;
}

export type PortProtocol = 'tcp' | 'udp' | 'sctp';

export interface PortMapping {
  target: number;
  /** Host port or range ("8080", "8080-8090"); undefined or "" lets the engine pick one. */
  published?: string;
  hostIp?: string;
  protocol: PortProtocol;
}

export interface NetworkAttachment {
  /** The engine-level network name (e.g. `myproj_default`). */
  network: string;
  aliases?: string[];
  ipv4Address?: string;
  ipv6Address?: string;
  macAddress?: string;
  linkLocalIps?: string[];
  driverOpts?: Record<string, string>;
}

export interface HealthcheckConfig {
  /** ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"] (disable the image's healthcheck). */
  test: string[];
  interval?: number;
  timeout?: number;
  retries?: number;
  startPeriod?: number;
  startInterval?: number;
}

export type RestartPolicyName = 'no' | 'always' | 'on-failure' | 'unless-stopped';

export interface RestartPolicy {
  name: RestartPolicyName;
  maxRetries?: number;
}

export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

export interface DeviceMapping {
  host: string;
  container: string;
  permissions: string;
}

export interface Resources {
  memory?: number;
  memoryReservation?: number;
  memorySwap?: number;
  memorySwappiness?: number;
  nanoCpus?: number;
  cpuShares?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  shmSize?: number;
  oomKillDisable?: boolean;
  oomScoreAdj?: number;
  blkioWeight?: number;
  ulimits?: Ulimit[];
  devices?: DeviceMapping[];
  /** Devices allowed beyond the defaults, as cgroup rules ("c 1:3 mr", "a *:* rwm"): Docker's DeviceCgroupRules. */
  deviceCgroupRules?: string[];
}

export interface LogConfig {
  driver: string;
  options?: Record<string, string>;
}

export interface ContainerCreateRequest {
  /** Unique; absent: the engine picks one (Docker's adjective_surname). */
  name?: string;
  image: string;
  labels: Labels;
  /** undefined keeps the image's; [] clears it. */
  entrypoint?: string[];
  /** undefined keeps the image's; [] clears it. */
  cmd?: string[];
  /** Added to the image's environment; later wins. */
  env?: Record<string, string>;
  user?: string;
  workingDir?: string;
  hostname?: string;
  domainname?: string;
  mounts?: MountRequest[];
  files?: FileRequest[];
  /** `volumes_from`: container names or ids, with an optional ":ro" / ":rw". */
  volumesFrom?: string[];
  ports?: PortMapping[];
  /** Ports the container listens on without publishing them ("80/tcp"). */
  exposedPorts?: string[];
  /**
   * The networks to join, the first one at create time, the others right
   * after. Ignored when networkMode is set to something other than a network.
   */
  networks?: NetworkAttachment[];
  /** "none", "host", "container:<name|id>", or undefined (attach to `networks`). */
  networkMode?: string;
  /** Legacy links ("name:alias"); Docker only. */
  links?: string[];
  healthcheck?: HealthcheckConfig;
  restart?: RestartPolicy;
  resources?: Resources;
  stopSignal?: string;
  /** Seconds, as Docker takes it. */
  stopTimeout?: number;
  init?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  readOnly?: boolean;
  securityOpt?: string[];
  extraHosts?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  sysctls?: Record<string, string>;
  tty?: boolean;
  openStdin?: boolean;
  /** The container's stdin closes when the first attached client closes it (`run -i`). */
  stdinOnce?: boolean;
  ipc?: string;
  pid?: string;
  uts?: string;
  /** The cgroup namespace: `private` (the engine's default where the kernel has them) or `host`. */
  cgroup?: string;
  cgroupParent?: string;
  groupAdd?: string[];
  logging?: LogConfig;
  platform?: string;
  runtime?: string;
  userns?: string;
  macAddress?: string;
  tmpfs?: Record<string, string>;
  /** Remove the container when it exits (`run --rm`). */
  autoRemove?: boolean;
}

/** A request whose name is settled (the planner names every container; an engine names one asked for without). */
export type NamedContainerRequest = ContainerCreateRequest & { name: string };

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface PublishedPort {
  target: number;
  protocol: PortProtocol;
  hostIp?: string;
  /** undefined when the port is exposed but not published. */
  hostPort?: number;
}

export interface ContainerNetwork {
  networkId: string;
  ipv4Address?: string;
  ipv6Address?: string;
  aliases: string[];
  macAddress?: string;
  /** The network's gateway and prefix length, where the engine reports them. */
  gateway?: string;
  prefixLen?: number;
  endpointId?: string;
  /** Docker's default bridge: no name resolution, and inspect shows its address at the top of NetworkSettings. */
  isDefault?: boolean;
}

export interface ContainerMount {
  type: MountType | string;
  /** The volume's name, for volume mounts. */
  name?: string;
  source: string;
  target: string;
  readOnly: boolean;
}

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  imageId: string;
  command: string;
  created: number;
  state: ContainerState;
  /** Human status as Docker prints it: "Up 3 minutes (healthy)", "Exited (0) 2 seconds ago". */
  status: string;
  health?: HealthStatus;
  /** The last exit code, when the container has exited. */
  exitCode?: number;
  labels: Labels;
  ports: PublishedPort[];
  /** By network name. */
  networks: Record<string, ContainerNetwork>;
  mounts: ContainerMount[];
}

export interface ContainerDetails extends ContainerSummary {
  exitCode: number;
  startedAt?: number;
  finishedAt?: number;
  restartCount: number;
  oomKilled: boolean;
  pid: number;
  error?: string;
  hostname: string;
  entrypoint: string[];
  cmd: string[];
  env: string[];
  user: string;
  workingDir: string;
  tty: boolean;
  openStdin: boolean;
  /** The healthcheck's recent probes, oldest first. */
  healthLog: { start: number; end: number; exitCode: number; output: string }[];
  restartPolicy: RestartPolicy;
  stopSignal?: string;
  stopTimeout?: number;
}

export interface ContainerListOptions extends LabelFilter {
  /** Include stopped containers (default: running only, as Docker). */
  all?: boolean;
  /** Only these names (exact). */
  names?: string[];
}

export interface LogOptions {
  follow?: boolean;
  /** Unix time in seconds (fractions allowed). */
  since?: number;
  until?: number;
  /** Last N lines; undefined for all. */
  tail?: number;
  timestamps?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  signal?: AbortSignal;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  /** The line without its newline; with `timestamps`, Docker's RFC3339Nano prefix is in `timestamp`. */
  text: string;
  timestamp?: string;
  /** The output ended without a newline here (the last line of a process that printed none). */
  partial?: boolean;
}

/** Streams a process is wired to. stdin is optional; with a tty, stderr is merged into stdout. */
export interface ProcessIO {
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
  tty?: boolean;
  /** Terminal size for a tty. */
  size?: { rows: number; cols: number };
  /**
   * Size changes of a terminal that is not this process's own (an API
   * client's): 'resize' events with (rows, cols). This process's terminal
   * is followed through SIGWINCH without it.
   */
  resizes?: EventEmitter;
}

export interface AttachSession {
  /** Resolves when the container's output ends. */
  done: Promise<void>;
  resize(rows: number, cols: number): Promise<void>;
  close(): void;
}

export interface ExecRequest {
  cmd: string[];
  env?: Record<string, string>;
  user?: string;
  workingDir?: string;
  privileged?: boolean;
  tty?: boolean;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface TopResult {
  titles: string[];
  processes: string[][];
}

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/**
 * An object as the Docker Engine API shows it (`GET /containers/{id}/json`,
 * `/images/{name}/json`, `/networks/{id}`, `/volumes/{name}`): what
 * `inspect` prints and an API server serves. The field names are Docker's;
 * the engine fills in what it has.
 */
export type DockerObject = Record<string, unknown>;

export interface CommitOptions {
  /** REPOSITORY[:TAG] for the new image. */
  tag?: string;
  author?: string;
  message?: string;
  /** Dockerfile instructions applied to the image's config (`-c 'ENV A=1'`). */
  changes?: string[];
}

/**
 * One reading of a running container's counters, in the shape of Docker's
 * stats API (GET /containers/{id}/stats?stream=false, cgroup fields only):
 * a rate such as `docker stats`' CPU % is the difference of two readings.
 */
export interface ContainerStats {
  read: string;
  id: string;
  name: string;
  pids_stats: { current: number; limit?: number };
  memory_stats: { usage: number; limit: number; stats: { inactive_file: number }; failcnt?: number };
  cpu_stats: {
    cpu_usage: { total_usage: number };
    /** The host's busy + idle time in ns (/proc/stat), the denominator of CPU %. */
    system_cpu_usage: number;
    online_cpus: number;
    throttling_data: { throttled_periods: number; throttled_time: number };
  };
  /** cgroup v1 or v2, as the reading came from (where the engine says). */
  cgroup_version?: 1 | 2;
  /** OOM kills in the container's cgroup (where the engine counts them). */
  oom_kills?: number;
}

/** `docker update`: new limits (applied at once to a running container) and a new restart policy. */
export interface ContainerUpdate {
  resources?: Pick<Resources, 'memory' | 'memoryReservation' | 'memorySwap' | 'nanoCpus' | 'cpuShares' | 'cpuPeriod' | 'cpuQuota' | 'cpusetCpus' | 'cpusetMems' | 'pidsLimit' | 'blkioWeight'>;
  restart?: RestartPolicy;
}

/** How a stop is followed. */
export interface StopOptions {
  /**
   * The caller removes the container next (`down`, `rm --stop`): the stop
   * may resolve once the container has stopped, leaving to the removal what
   * it undoes anyway (the native engine's network release: names off, ports
   * freed), or to the engine's close() when the removal never comes or fails.
   */
  thenRemove?: boolean;
}

export interface ContainerApi {
  /** The warnings say what the engine cannot honour but Docker treats as best effort. */
  create(spec: ContainerCreateRequest): Promise<{ id: string; name: string; warnings: string[] }>;
  start(id: string): Promise<void>;
  /** Sends the stop signal (`signal`, or the container's), waits `timeoutSeconds` (default: the container's), then kills. */
  stop(id: string, timeoutSeconds?: number, signal?: string, options?: StopOptions): Promise<void>;
  restart(id: string, timeoutSeconds?: number, signal?: string): Promise<void>;
  kill(id: string, signal?: string): Promise<void>;
  remove(id: string, options?: { force?: boolean; volumes?: boolean }): Promise<void>;
  rename(id: string, newName: string): Promise<void>;
  /** Changes limits and the restart policy of an existing container; what Docker warns about comes back as warnings. */
  update(id: string, update: ContainerUpdate): Promise<{ warnings: string[] }>;
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  /** undefined when there is no such container. */
  inspect(idOrName: string): Promise<ContainerDetails | undefined>;
  /** Docker's JSON of the container; undefined when there is no such container. */
  inspectRaw(idOrName: string): Promise<DockerObject | undefined>;
  list(options?: ContainerListOptions): Promise<ContainerSummary[]>;
  logs(id: string, options?: LogOptions): AsyncIterable<LogLine>;
  /** Attach before start to see all output; with io.stdin, input is forwarded. */
  attach(id: string, io: ProcessIO): Promise<AttachSession>;
  exec(id: string, spec: ExecRequest, io: ProcessIO): Promise<{ exitCode: number }>;
  /** Starts a process in the container and returns at once (`exec -d`). */
  execDetached(id: string, spec: ExecRequest): Promise<void>;
  wait(id: string, condition?: WaitCondition, signal?: AbortSignal): Promise<{ exitCode: number }>;
  top(id: string, psArgs?: string): Promise<TopResult>;
  /** One reading of the container's resource use (Docker's `stats?stream=false`); zeros for a container that does not run. */
  stats(id: string): Promise<ContainerStats>;
  /** A tar stream of `path` inside the container. */
  getArchive(id: string, path: string): Promise<{ stream: Readable; stat: PathStat }>;
  /** Extracts a tar archive into the directory `path` inside the container; an entry's missing parent directories are made (0755, root's), as Docker does. */
  putArchive(id: string, path: string, tar: Readable | Buffer): Promise<void>;
  statPath(id: string, path: string): Promise<PathStat | undefined>;
  /** The container's filesystem (image and changes, without what is mounted in it) as a tar stream: `docker export`. */
  export(id: string): Promise<Readable>;
  /** A new image of the container's filesystem changes; its id. */
  commit(idOrName: string, options?: CommitOptions): Promise<string>;
}

// ------------------------------------------------------------------ networks

export interface IpamPool {
  subnet?: string;
  ipRange?: string;
  gateway?: string;
  auxAddresses?: Record<string, string>;
}

export interface NetworkCreateRequest {
  name: string;
  driver?: string;
  driverOpts?: Record<string, string>;
  labels: Labels;
  internal?: boolean;
  attachable?: boolean;
  enableIpv6?: boolean;
  ipam?: { driver?: string; config?: IpamPool[]; options?: Record<string, string> };
}

export interface NetworkSummary {
  id: string;
  name: string;
  driver: string;
  scope: string;
  internal: boolean;
  labels: Labels;
  ipam: IpamPool[];
  created: number;
}

export interface NetworkDetails extends NetworkSummary {
  /** Endpoints by container id. */
  containers: Record<string, { name: string; ipv4Address?: string; ipv6Address?: string }>;
  options: Record<string, string>;
  enableIpv6: boolean;
  attachable: boolean;
}

export interface NetworkApi {
  create(spec: NetworkCreateRequest): Promise<{ id: string }>;
  remove(idOrName: string): Promise<void>;
  inspect(idOrName: string): Promise<NetworkDetails | undefined>;
  /** Docker's JSON of the network; undefined when there is no such network. */
  inspectRaw(idOrName: string): Promise<DockerObject | undefined>;
  list(filter?: LabelFilter & { names?: string[] }): Promise<NetworkSummary[]>;
  connect(network: string, container: string, attachment?: Omit<NetworkAttachment, 'network'>): Promise<void>;
  /** NotConnectedError when the container is not on the network. */
  disconnect(network: string, container: string, force?: boolean): Promise<void>;
  /** Removes the networks no container uses (of those matching `filter`); their names. */
  prune(filter?: LabelFilter): Promise<string[]>;
}

// ------------------------------------------------------------------- volumes

export interface VolumeCreateRequest {
  /** Absent: a random one (an anonymous volume). */
  name?: string;
  driver?: string;
  driverOpts?: Record<string, string>;
  labels: Labels;
}

export interface VolumeSummary {
  name: string;
  driver: string;
  labels: Labels;
  mountpoint: string;
  created?: number;
  options: Record<string, string>;
}

export interface VolumeApi {
  create(spec: VolumeCreateRequest): Promise<VolumeSummary>;
  remove(name: string, force?: boolean): Promise<void>;
  inspect(name: string): Promise<VolumeSummary | undefined>;
  /** Docker's JSON of the volume; undefined when there is no such volume. */
  inspectRaw(name: string): Promise<DockerObject | undefined>;
  /** `dangling`: only volumes no container uses (true) or only used ones (false). */
  list(filter?: LabelFilter & { dangling?: boolean }): Promise<VolumeSummary[]>;
  /** Removes the volumes no container uses: anonymous ones, or all with `all`; their names and the bytes freed. */
  prune(options?: LabelFilter & { all?: boolean }): Promise<{ removed: string[]; reclaimedBytes: number }>;
}

// -------------------------------------------------------------------- images

export interface ImageConfig {
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
  user: string;
  exposedPorts: string[];
  volumes: string[];
  labels: Labels;
  stopSignal?: string;
  healthcheck?: HealthcheckConfig;
}

export interface ImageSummary {
  /** "sha256:<hex>" */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  created: number;
  size: number;
  labels: Labels;
}

export interface ImageDetails extends ImageSummary {
  architecture: string;
  os: string;
  config: ImageConfig;
}

/** A progress report from a pull, build or load, already reduced to a line of text or a byte count. */
export interface TransferProgress {
  /** What the report is about: a layer id, a build step... */
  id?: string;
  status: string;
  current?: number;
  total?: number;
}

/** Registry credentials given with one pull or push (an API client's X-Registry-Auth), instead of the stored ones. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface PullOptions {
  platform?: string;
  onProgress?: (p: TransferProgress) => void;
  signal?: AbortSignal;
  credentials?: RegistryCredentials;
}

export interface BuildRequest {
  /** Absolute path of the build context directory. */
  context: string;
  /** Path of the Dockerfile relative to the context (default "Dockerfile"). */
  dockerfile?: string;
  /** Dockerfile text, instead of a file in the context. */
  dockerfileInline?: string;
  args?: Record<string, string>;
  target?: string;
  tags: string[];
  labels?: Labels;
  network?: string;
  noCache?: boolean;
  pull?: boolean;
  platform?: string;
  extraHosts?: string[];
  shmSize?: number;
  /** Memory limit of each RUN step, bytes (`build --memory`). */
  memory?: number;
  onProgress?: (p: TransferProgress) => void;
  signal?: AbortSignal;
}

/** What a removal did, as Docker reports it: the tags taken away, then the images (and layers) deleted. */
export interface ImageRemoval {
  untagged: string[];
  deleted: string[];
}

export interface ImageHistoryEntry {
  /** "sha256:<hex>" of the image this step made, or "<missing>" for steps of a pulled image. */
  id: string;
  /** Milliseconds since the epoch. */
  created: number;
  createdBy: string;
  size: number;
  comment: string;
  tags: string[];
}

export interface PushOptions {
  onProgress?: (p: TransferProgress) => void;
  signal?: AbortSignal;
  credentials?: RegistryCredentials;
}

export interface ImportOptions {
  /** REPOSITORY[:TAG]s of the new image. */
  tags?: string[];
  /** Dockerfile instructions applied to its config. */
  changes?: string[];
  message?: string;
}

export interface ImageApi {
  inspect(ref: string): Promise<ImageDetails | undefined>;
  /** Docker's JSON of the image; undefined when there is no such image. */
  inspectRaw(ref: string): Promise<DockerObject | undefined>;
  list(filter?: LabelFilter & { reference?: string }): Promise<ImageSummary[]>;
  remove(ref: string, options?: { force?: boolean }): Promise<ImageRemoval>;
  /** Removes dangling images, or with `all` every image no container uses. */
  prune(options?: { all?: boolean }): Promise<ImageRemoval & { reclaimedBytes: number }>;
  tag(source: string, target: string): Promise<void>;
  /** The steps that made the image, newest first. */
  history(ref: string): Promise<ImageHistoryEntry[]>;
  /** The reference pulled, in full (`docker.io/library/busybox:latest`, the last line of `docker pull`). */
  pull(ref: string, options?: PullOptions): Promise<{ reference: string }>;
  /** Pushes a tag to its registry; the reference and the manifest's digest. */
  push(ref: string, options?: PushOptions): Promise<{ reference: string; digest: string }>;
  /** Builds and returns the image id. */
  build(spec: BuildRequest): Promise<string>;
  /**
   * Loads a `docker save` archive (a stream, or a path: a file or an OCI layout directory) and returns the loaded
   * references; `onProgress` hears Docker's lines as well (`Loaded image: x`).
   */
  load(archive: Readable | string, onProgress?: (p: TransferProgress) => void): Promise<string[]>;
  /** Writes the images as one `docker save` archive to `out`, and ends it. */
  save(refs: string[], out: Writable): Promise<void>;
  /** A root filesystem tar (gzip or plain; a path or a stream) as a one-layer image; its id. */
  importRootfs(source: Readable | string, options?: ImportOptions): Promise<string>;
  /**
   * A `debian:<suite>` base image made here with debootstrap, for machines
   * that reach no registry (the native engine's; absent elsewhere); its id.
   */
  bootstrap?(ref: string, options?: { refresh?: boolean; cacheDir?: string; onLine?: (line: string) => void }): Promise<string>;
}

// -------------------------------------------------------------------- events

export interface EngineEvent {
  /** Milliseconds since the epoch. */
  time: number;
  type: 'container' | 'network' | 'volume' | 'image' | string;
  action: string;
  id: string;
  attributes: Record<string, string>;
}

export interface EventFilter extends LabelFilter {
  types?: string[];
  /** Replay the events from this time (milliseconds since the epoch) before following. */
  since?: number;
  /** End the stream at this time (ms since the epoch); one in the past ends it after the replay (docker's --until). */
  until?: number;
}

export interface EngineInfo {
  backend: BackendName;
  name: string;
  version: string;
  apiVersion?: string;
  os: string;
  arch: string;
}

export interface Engine {
  readonly backend: BackendName;
  readonly containers: ContainerApi;
  readonly networks: NetworkApi;
  readonly volumes: VolumeApi;
  readonly images: ImageApi;
  info(): Promise<EngineInfo>;
  /** Engine events from now on (or from `since`, ms since the epoch, where the engine keeps them), until `signal` aborts. */
  events(filter: EventFilter, signal: AbortSignal): AsyncIterable<EngineEvent>;
  close(): Promise<void>;
}

/** A disconnect of a container that is not on the network (Docker answers 403 "is not connected"). */
export class NotConnectedError extends UserError {
  constructor(container: string, network: string, hint?: string) {
    super(`container ${container} is not connected to network ${network}`, 1, hint);
    this.name = 'NotConnectedError';
  }
}

/**
 * An engine failure that is neither "not found" nor a conflict, naming the
 * operation and the object. It is a UserError: what an engine refuses (a bad
 * mount, an unknown image, a daemon that is down) is the user's to fix, and
 * prints as a sentence.
 */
export class EngineError extends UserError {
  constructor(
    message: string,
    readonly statusCode?: number,
    hint?: string,
  ) {
    super(message, 1, hint);
    this.name = 'EngineError';
  }
}
