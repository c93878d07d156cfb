/**
 * The normalized Project model: what the loader (src/project) produces and every other module
 * consumes. It mirrors compose-go's types, with every short syntax already
 * turned into its long form, so consumers never parse compose syntax again.
 *
 * Conventions (a contract: see docs/internals.md):
 * - Keys are spelled exactly as the Compose specification spells them
 *   (snake_case), so `tscompose config` prints the model as it is.
 * - Durations are **milliseconds** (a number, fractional below 1 ms), because
 *   Node's timers speak milliseconds. `config` prints them as Go durations
 *   ("1m30s") like Docker Compose.
 * - Byte sizes are **bytes** (a number). Unlimited is absent, not -1, except
 *   for memswap_limit, where -1 means unlimited swap as in Docker.
 * - Collections (lists and maps) are always present, empty when unset, so
 *   consumers can iterate without checks; scalars are optional when "unset"
 *   differs from any value (the engine or the image decides).
 * - Paths (build contexts, bind sources, env files, config/secret files) are
 *   absolute once loaded.
 * - `x-*` extensions stay where the user wrote them: as keys of the object
 *   they were written in (typed by `XExtensions`), except at the top level,
 *   where they are collected in `Project.extensions`.
 */

/** Milliseconds. */
export type Millis = number;
/** A size in bytes. */
export type Bytes = number;

/** `x-` keys kept on the object they were written in. */
export interface XExtensions {
  [key: `x-${string}`]: unknown;
}

/** A `KEY: value` mapping where a null value means "take it from the environment" (environment, build args). */
export type MappingWithEquals = Record<string, string | null>;
/** A plain string mapping (labels, sysctls, driver options...). */
export type Mapping = Record<string, string>;

export interface Project {
  /** The project name, validated (`^[a-z0-9][a-z0-9_-]*$`). */
  name: string;
  /** The project directory (absolute): relative paths were resolved against it. */
  workingDir: string;
  /** The compose files loaded, absolute, in the order given (includes and extends files are not listed). */
  configFiles: string[];
  /** The environment used for interpolation: process environment over `.env`/`--env-file` values. */
  environment: Record<string, string>;
  /** Enabled services (profiles applied), by name. */
  services: Record<string, ServiceConfig>;
  /** Services declared but disabled by profiles; kept so commands can explain why a service is missing. */
  disabledServices: Record<string, ServiceConfig>;
  /** Active profiles (from `--profile` or COMPOSE_PROFILES). */
  profiles: string[];
  networks: Record<string, NetworkConfig>;
  volumes: Record<string, VolumeConfig>;
  configs: Record<string, ConfigObjConfig>;
  secrets: Record<string, SecretConfig>;
  models: Record<string, ModelConfig>;
  /** Top-level `x-*` keys. */
  extensions: Record<string, unknown>;
}

export type RestartPolicyName = 'no' | 'always' | 'on-failure' | `on-failure:${number}` | 'unless-stopped';
export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';
export type PullPolicy = 'always' | 'never' | 'missing' | 'build' | 'if_not_present' | 'daily' | 'weekly' | `every_${string}` | 'refresh';

export interface ServiceConfig extends XExtensions {
  /** The service's key in `services:` (not printed by `config`). */
  name: string;
  profiles: string[];
  annotations: Mapping;
  attach?: boolean;
  build?: BuildConfig;
  develop?: DevelopConfig;
  blkio_config?: BlkioConfig;
  cap_add: string[];
  cap_drop: string[];
  cgroup?: 'host' | 'private';
  cgroup_parent?: string;
  cpu_count?: number;
  cpu_percent?: number;
  cpu_period?: number;
  cpu_quota?: number;
  cpu_rt_period?: number;
  cpu_rt_runtime?: number;
  cpus?: number;
  cpuset?: string;
  cpu_shares?: number;
  /** null: the image's CMD; []: cleared; otherwise exec form (a string command was split like a shell would). */
  command: string[] | null;
  configs: ServiceFileReference[];
  container_name?: string;
  credential_spec?: CredentialSpecConfig;
  /** Explicit dependencies plus the implicit ones (links, network_mode/ipc/pid: service:x, volumes_from). */
  depends_on: Record<string, ServiceDependency>;
  deploy?: DeployConfig;
  device_cgroup_rules: string[];
  devices: DeviceMapping[];
  dns: string[];
  dns_opt: string[];
  dns_search: string[];
  domainname?: string;
  /** null: the image's ENTRYPOINT; []: cleared. */
  entrypoint: string[] | null;
  /** Literal values from `environment:` and every `env_file` (already read and merged); null = unresolved. */
  environment: MappingWithEquals;
  /** The env files that were read into `environment` (absolute paths). */
  env_file: EnvFile[];
  expose: string[];
  external_links: string[];
  /** Host name -> addresses (a host may map to several). */
  extra_hosts: Record<string, string[]>;
  group_add: string[];
  gpus: DeviceRequest[];
  hostname?: string;
  healthcheck?: HealthCheckConfig;
  image?: string;
  init?: boolean;
  ipc?: string;
  isolation?: string;
  labels: Mapping;
  label_file: string[];
  links: string[];
  logging?: LoggingConfig;
  mac_address?: string;
  mem_limit?: Bytes;
  mem_reservation?: Bytes;
  memswap_limit?: Bytes;
  mem_swappiness?: number;
  models: Record<string, ServiceModelConfig | null>;
  network_mode?: string;
  /** Network key -> per-service settings (null when none). Empty when network_mode is set. */
  networks: Record<string, ServiceNetworkConfig | null>;
  oom_kill_disable: boolean;
  oom_score_adj?: number;
  pid?: string;
  pids_limit?: number;
  platform?: string;
  /** One entry per (published, target) pair: short-syntax ranges are expanded. */
  ports: ServicePortConfig[];
  post_start: ServiceHook[];
  pre_start: ServiceHook[];
  pre_stop: ServiceHook[];
  privileged: boolean;
  provider?: ServiceProviderConfig;
  pull_policy?: PullPolicy;
  pull_refresh_after?: string;
  read_only: boolean;
  restart?: RestartPolicyName;
  runtime?: string;
  /** Replicas: `scale`, else `deploy.replicas`; absent means 1. */
  scale?: number;
  secrets: ServiceFileReference[];
  security_opt: string[];
  shm_size?: Bytes;
  stdin_open: boolean;
  stop_grace_period?: Millis;
  stop_signal?: string;
  storage_opt: Mapping;
  sysctls: Mapping;
  /** tmpfs mount targets (`/run` or `/run:size=64m` as Docker takes them). */
  tmpfs: string[];
  tty: boolean;
  ulimits: Record<string, UlimitConfig>;
  use_api_socket: boolean;
  user?: string;
  userns_mode?: string;
  uts?: string;
  volumes: ServiceVolumeConfig[];
  volumes_from: string[];
  working_dir?: string;
}

export interface ServicePortConfig extends XExtensions {
  name?: string;
  /** `ingress` (the default) or `host`. */
  mode: string;
  host_ip?: string;
  target: number;
  /** A port or a range ("8000-8010"); absent: an ephemeral port is chosen. */
  published?: string;
  protocol: 'tcp' | 'udp' | 'sctp' | string;
  app_protocol?: string;
}

export type VolumeType = 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | 'image';

export interface ServiceVolumeConfig extends XExtensions {
  type: VolumeType;
  /** Absolute host path (bind), volume key (volume; absent = anonymous), image (image). */
  source?: string;
  target: string;
  read_only: boolean;
  consistency?: string;
  bind?: ServiceVolumeBind;
  volume?: ServiceVolumeVolume;
  tmpfs?: ServiceVolumeTmpfs;
  image?: { subpath?: string } & XExtensions;
}

export interface ServiceVolumeBind extends XExtensions {
  propagation?: string;
  create_host_path: boolean;
  selinux?: 'z' | 'Z';
  recursive?: 'enabled' | 'disabled' | 'writable' | 'readonly';
}

export interface ServiceVolumeVolume extends XExtensions {
  labels?: Mapping;
  nocopy: boolean;
  subpath?: string;
}

export interface ServiceVolumeTmpfs extends XExtensions {
  size?: Bytes;
  /** File mode bits (e.g. 0o1777). */
  mode?: number;
}

export interface ServiceDependency extends XExtensions {
  condition: DependencyCondition;
  /** false: a failing dependency is a warning, not an error. */
  required: boolean;
  /** true: restart this service when the dependency is recreated/restarted. */
  restart: boolean;
}

export interface ServiceNetworkConfig extends XExtensions {
  aliases?: string[];
  driver_opts?: Mapping;
  gw_priority?: number;
  interface_name?: string;
  ipv4_address?: string;
  ipv6_address?: string;
  link_local_ips?: string[];
  mac_address?: string;
  priority?: number;
}

export interface EnvFile {
  path: string;
  required: boolean;
  format?: string;
}

export interface BuildConfig extends XExtensions {
  /** Absolute directory, or a remote context (git URL...) kept as written. */
  context: string;
  /** Defaults to "Dockerfile" (relative to the context), unless dockerfile_inline is set. */
  dockerfile?: string;
  dockerfile_inline?: string;
  entitlements: string[];
  args: MappingWithEquals;
  provenance?: string;
  sbom?: string;
  ssh: SSHKey[];
  labels: Mapping;
  cache_from: string[];
  cache_to: string[];
  no_cache: boolean;
  no_cache_filter: string[];
  additional_contexts: Mapping;
  pull: boolean;
  extra_hosts: Record<string, string[]>;
  isolation?: string;
  network?: string;
  target?: string;
  secrets: ServiceFileReference[];
  shm_size?: Bytes;
  tags: string[];
  ulimits: Record<string, UlimitConfig>;
  platforms: string[];
  privileged: boolean;
}

export interface SSHKey {
  id: string;
  /** Path to a key or agent socket; absent means the default agent. */
  path?: string;
}

export interface HealthCheckConfig extends XExtensions {
  /** ["CMD", ...], ["CMD-SHELL", cmd] or ["NONE"]; empty = the image's check. */
  test: string[];
  timeout?: Millis;
  interval?: Millis;
  retries?: number;
  start_period?: Millis;
  start_interval?: Millis;
  disable: boolean;
}

export interface ServiceFileReference extends XExtensions {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  /** File mode bits (written in YAML as octal, e.g. 0440). */
  mode?: number;
}

export interface UlimitConfig extends XExtensions {
  soft: number;
  hard: number;
}

export interface LoggingConfig extends XExtensions {
  driver?: string;
  options: Mapping;
}

export interface DeployConfig extends XExtensions {
  mode?: string;
  replicas?: number;
  labels: Mapping;
  update_config?: UpdateConfig;
  rollback_config?: UpdateConfig;
  resources: Resources;
  restart_policy?: RestartPolicy;
  placement?: Placement;
  endpoint_mode?: string;
}

export interface UpdateConfig extends XExtensions {
  parallelism?: number;
  delay?: Millis;
  failure_action?: string;
  monitor?: Millis;
  max_failure_ratio?: number;
  order?: 'start-first' | 'stop-first';
}

export interface Resources extends XExtensions {
  limits?: Resource;
  reservations?: Resource;
}

export interface Resource extends XExtensions {
  cpus?: number;
  memory?: Bytes;
  pids?: number;
  devices?: DeviceRequest[];
  generic_resources?: GenericResource[];
}

export interface GenericResource extends XExtensions {
  discrete_resource_spec?: { kind?: string; value?: number } & XExtensions;
}

export interface DeviceRequest extends XExtensions {
  capabilities: string[];
  driver?: string;
  /** -1 means "all". */
  count?: number;
  device_ids?: string[];
  options?: Mapping;
}

export interface RestartPolicy extends XExtensions {
  condition?: string;
  delay?: Millis;
  max_attempts?: number;
  window?: Millis;
}

export interface Placement extends XExtensions {
  constraints?: string[];
  preferences?: ({ spread?: string } & XExtensions)[];
  max_replicas_per_node?: number;
}

export interface DeviceMapping extends XExtensions {
  source: string;
  target: string;
  permissions: string;
}

export interface BlkioConfig extends XExtensions {
  weight?: number;
  weight_device?: { path: string; weight: number }[];
  device_read_bps?: ThrottleDevice[];
  device_read_iops?: ThrottleDevice[];
  device_write_bps?: ThrottleDevice[];
  device_write_iops?: ThrottleDevice[];
}

export interface ThrottleDevice {
  path: string;
  rate: number;
}

export interface CredentialSpecConfig extends XExtensions {
  config?: string;
  file?: string;
  registry?: string;
}

export interface ServiceHook extends XExtensions {
  command: string[] | null;
  image?: string;
  user?: string;
  privileged: boolean;
  working_dir?: string;
  environment: MappingWithEquals;
  per_replica?: boolean;
}

export interface DevelopConfig extends XExtensions {
  watch: WatchTrigger[];
}

export interface WatchTrigger extends XExtensions {
  path: string;
  action: 'rebuild' | 'sync' | 'restart' | 'sync+restart' | 'sync+exec';
  target?: string;
  exec?: ServiceHook;
  include?: string[];
  ignore?: string[];
  initial_sync?: boolean;
}

export interface ServiceProviderConfig extends XExtensions {
  type: string;
  options: Record<string, string[]>;
}

export interface ServiceModelConfig extends XExtensions {
  endpoint_var?: string;
  model_var?: string;
}

export interface NetworkConfig extends XExtensions {
  /** The engine-level name: `<project>_<key>` unless set explicitly or external. */
  name: string;
  driver?: string;
  driver_opts: Mapping;
  ipam: IPAMConfig;
  external: boolean;
  internal: boolean;
  attachable: boolean;
  labels: Mapping;
  enable_ipv4?: boolean;
  enable_ipv6?: boolean;
}

export interface IPAMConfig extends XExtensions {
  driver?: string;
  config: IPAMPool[];
  options: Mapping;
}

export interface IPAMPool extends XExtensions {
  subnet?: string;
  gateway?: string;
  ip_range?: string;
  aux_addresses?: Mapping;
}

export interface VolumeConfig extends XExtensions {
  /** The engine-level name: `<project>_<key>` unless set explicitly or external. */
  name: string;
  driver?: string;
  driver_opts: Mapping;
  external: boolean;
  labels: Mapping;
}

/** A top-level config or secret: exactly one of file, environment, content (or external). */
export interface FileObjectConfig extends XExtensions {
  name: string;
  /** Absolute path. */
  file?: string;
  /** The name of a variable of the project environment holding the content. */
  environment?: string;
  /** Inline content (configs only). */
  content?: string;
  external: boolean;
  labels: Mapping;
  driver?: string;
  driver_opts?: Mapping;
  template_driver?: string;
}

export type ConfigObjConfig = FileObjectConfig;
export type SecretConfig = FileObjectConfig;

export interface ModelConfig extends XExtensions {
  name?: string;
  model: string;
  context_size?: number;
  runtime_flags?: string[];
}
