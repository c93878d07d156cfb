import { Option, type Command } from 'commander';
import { UserError } from '../../util/errors.js';
import type { ContainerNetwork, ContainerConfig } from '../../engine/native/runtime/index.js';
import {
  applySecurityOpts, parseBytes, parseEnv, parseInteger, parseKeyValues, parseMountFlag, parseTmpfsFlag, parseUlimit,
  parseVolumeFlag,
} from './flags.js';

/** The flags `container run` and `container create` share, and their translation into a ContainerConfig. */

export interface CreateFlags {
  name?: string;
  env?: string[];
  envFile?: string[];
  volume?: string[];
  mount?: string[];
  tmpfs?: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  interactive?: boolean;
  tty?: boolean;
  init?: boolean;
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpus?: string;
  cpuShares?: string;
  pidsLimit?: string;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  readOnly?: boolean;
  hostname?: string;
  domainname?: string;
  label?: string[];
  network?: string;
  networkAlias?: string[];
  publish?: string[];
  ip?: string;
  addHost?: string[];
  dns?: string[];
  stopSignal?: string;
  stopTimeout?: string;
  shmSize?: string;
  sysctl?: string[];
  ulimit?: string[];
  securityOpt?: string[];
  groupAdd?: string[];
  oomScoreAdj?: string;
  rm?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addCreateOptions(cmd: Command): Command {
  return cmd
    .option('--name <string>', 'Assign a name to the container')
    .option('-e, --env <list>', 'Set environment variables (repeatable)', collect)
    .option('--env-file <file>', 'Read in a file of environment variables (repeatable)', collect)
    .option('-v, --volume <list>', 'Bind mount a volume (repeatable)', collect)
    .option('--mount <mount>', 'Attach a filesystem mount to the container (repeatable)', collect)
    .option('--tmpfs <path>', 'Mount a tmpfs directory (repeatable)', collect)
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--cpus <decimal>', 'Number of CPUs')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--cap-add <list>', 'Add Linux capabilities (repeatable)', collect)
    .option('--cap-drop <list>', 'Drop Linux capabilities (repeatable)', collect)
    .option('--privileged', 'Give extended privileges to this container')
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('-h, --hostname <string>', 'Container host name')
    .option('--domainname <string>', 'Container NIS domain name')
    .option('-l, --label <list>', 'Set meta data on a container (repeatable)', collect)
    .addOption(new Option('--network <network>', 'Connect a container to a network (default: bridge; none, host)').default(undefined))
    .option('--network-alias <list>', 'Add network-scoped alias for the container (repeatable)', collect)
    .option('-p, --publish <list>', "Publish a container's port(s) to the host (repeatable)", collect)
    .option('--ip <string>', 'IPv4 address (e.g., 172.30.100.104)')
    .option('--add-host <list>', 'Add a custom host-to-IP mapping (host:ip) (repeatable)', collect)
    .option('--dns <list>', 'Set custom DNS servers (repeatable)', collect)
    .option('--stop-signal <string>', 'Signal to stop the container')
    .option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container')
    .option('--shm-size <bytes>', 'Size of /dev/shm')
    .option('--sysctl <map>', 'Sysctl options (repeatable)', collect)
    .option('--ulimit <ulimit>', 'Ulimit options (repeatable)', collect)
    .option('--security-opt <list>', 'Security options (repeatable)', collect)
    .option('--group-add <list>', 'Add additional groups to join (repeatable)', collect)
    .option('--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)")
    .option('--rm', 'Automatically remove the container and its associated anonymous volumes when it exits');
}

/**
 * Where `--network NAME` becomes a network namespace to join: none and host
 * are the runtime's own; a named network (Docker's default `bridge` when
 * none is given) is src/network's: the container is created without one and
 * wired right after (wireContainerNetwork), once it has its id and name.
 */
export async function resolveNetworkFlag(network: string | undefined): Promise<ContainerNetwork> {
  const name = network ?? 'bridge';
  if (name === 'host') return { mode: 'host' };
  if (name.startsWith('container:')) throw new UserError(`--network ${name} is not supported by the native engine yet`, 1, 'use a network, host or none');
  return { mode: 'none' };
}

export async function specFromFlags(image: string, command: string[], f: CreateFlags): Promise<ContainerConfig> {
  // Loaded on use: the network module's flag checks cost more to import than the rest of this file.
  const { checkNetworkFlags, isBridgeNetwork } = await import('../../network/container-flags.js');
  const spec: ContainerConfig = { image };
  if (f.name !== undefined) spec.name = f.name;
  if (command.length) spec.cmd = command;
  if (f.entrypoint !== undefined) spec.entrypoint = f.entrypoint === '' ? [] : [f.entrypoint];
  const env = parseEnv(f.env, f.envFile);
  if (env.length) spec.env = env;
  const mounts = [
    ...(f.volume ?? []).map(parseVolumeFlag),
    ...(f.mount ?? []).map(parseMountFlag),
    ...(f.tmpfs ?? []).map(parseTmpfsFlag),
  ];
  if (mounts.length) spec.mounts = mounts;
  if (f.workdir !== undefined) spec.workingDir = f.workdir;
  if (f.user !== undefined) spec.user = f.user;
  if (f.tty) spec.tty = true;
  if (f.interactive) spec.openStdin = true;
  if (f.init) spec.init = true;
  const resources: NonNullable<ContainerConfig['resources']> = {};
  if (f.memory) resources.memory = parseBytes(f.memory, '--memory');
  if (f.memorySwap) resources.memorySwap = f.memorySwap === '-1' ? -1 : parseBytes(f.memorySwap, '--memory-swap');
  if (f.memoryReservation) resources.memoryReservation = parseBytes(f.memoryReservation, '--memory-reservation');
  if (f.cpus) {
    const cpus = Number(f.cpus);
    if (!Number.isFinite(cpus) || cpus <= 0) throw new UserError(`invalid value "${f.cpus}" for --cpus: expected a positive number`);
    resources.cpus = cpus;
  }
  if (f.cpuShares) resources.cpuShares = parseInteger(f.cpuShares, '--cpu-shares');
  if (f.pidsLimit) resources.pidsLimit = parseInteger(f.pidsLimit, '--pids-limit');
  if (f.oomScoreAdj) resources.oomScoreAdj = parseInteger(f.oomScoreAdj, '--oom-score-adj');
  if (Object.keys(resources).length) spec.resources = resources;
  if (f.capAdd) spec.capAdd = f.capAdd.flatMap((c) => c.split(','));
  if (f.capDrop) spec.capDrop = f.capDrop.flatMap((c) => c.split(','));
  if (f.privileged) spec.privileged = true;
  if (f.readOnly) spec.readOnlyRootfs = true;
  if (f.hostname !== undefined) spec.hostname = f.hostname;
  if (f.domainname !== undefined) spec.domainname = f.domainname;
  if (f.label) spec.labels = parseKeyValues(f.label, '--label');
  // On a bridge network the extra hosts go into the hosts file src/network writes (host-gateway is its gateway).
  if (f.addHost && !isBridgeNetwork(f.network)) spec.extraHosts = f.addHost;
  if (f.stopSignal) spec.stopSignal = f.stopSignal;
  if (f.stopTimeout !== undefined) spec.stopTimeout = parseInteger(f.stopTimeout, '--stop-timeout');
  if (f.shmSize) spec.shmSize = parseBytes(f.shmSize, '--shm-size');
  if (f.sysctl) spec.sysctls = parseKeyValues(f.sysctl, '--sysctl');
  if (f.ulimit) spec.ulimits = f.ulimit.map(parseUlimit);
  if (f.groupAdd) spec.groupAdd = f.groupAdd;
  applySecurityOpts(spec, f.securityOpt);
  if (f.rm) spec.autoRemove = true;
  checkNetworkFlags(f);
  spec.network = await resolveNetworkFlag(f.network);
  if (f.dns?.length) spec.dns = { servers: f.dns };
  return spec;
}
