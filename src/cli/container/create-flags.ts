import { Option, type Command } from 'commander';
import { UserError } from '../../util/errors.js';
import type { ContainerCreateRequest, MountRequest, Resources } from '../../engine/types.js';
import { parsePortMappings } from '../../engine/port-mapping.js';
import { collect } from '../flags.js';
import {
  parseBytes, parseEnv, parseInteger, parseKeyValues, parseMountFlag, parseTmpfsFlag, parseUlimit, parseVolumeFlag, type ContainerMount,
} from './flags.js';

/** The flags `container run` and `container create` share, and the Engine's request they make. */

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
  cpusetCpus?: string;
  cpusetMems?: string;
  blkioWeight?: string;
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
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('--blkio-weight <uint16>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)')
    .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--cap-add <list>', 'Add Linux capabilities (repeatable)', collect)
    .option('--cap-drop <list>', 'Drop Linux capabilities (repeatable)', collect)
    .option('--privileged', 'Give extended privileges to this container')
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('-h, --hostname <string>', 'Container host name')
    .option('--domainname <string>', 'Container NIS domain name')
    .option('-l, --label <list>', 'Set meta data on a container (repeatable)', collect)
    .addOption(new Option('--network <network>', 'Connect a container to a network (default: bridge; none, host, container:NAME)').default(undefined))
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

function mountRequest(m: ContainerMount): MountRequest {
  const o = m.options ?? {};
  return {
    type: m.type,
    ...(m.source !== undefined ? { source: m.source } : {}),
    target: m.target,
    readOnly: m.readOnly ?? false,
    ...(o.createHostPath ? { createHostPath: true } : {}),
    ...(o.noCopy ? { noCopy: true } : {}),
    ...(o.tmpfsSize !== undefined ? { tmpfsSize: o.tmpfsSize } : {}),
    ...(o.tmpfsMode !== undefined ? { tmpfsMode: o.tmpfsMode } : {}),
  };
}

/** docker run's flags as the Engine's create request (`--network` NAME, none, host or container:NAME; default Docker's `bridge`). */
export function requestFromFlags(image: string, command: string[], f: CreateFlags): ContainerCreateRequest {
  const resources: Resources = {};
  if (f.memory) resources.memory = parseBytes(f.memory, '--memory');
  if (f.memorySwap) resources.memorySwap = f.memorySwap === '-1' ? -1 : parseBytes(f.memorySwap, '--memory-swap');
  if (f.memoryReservation) resources.memoryReservation = parseBytes(f.memoryReservation, '--memory-reservation');
  if (f.cpus) {
    const cpus = Number(f.cpus);
    if (!Number.isFinite(cpus) || cpus <= 0) throw new UserError(`invalid value "${f.cpus}" for --cpus: expected a positive number`);
    resources.nanoCpus = Math.round(cpus * 1e9);
  }
  if (f.cpuShares) resources.cpuShares = parseInteger(f.cpuShares, '--cpu-shares');
  if (f.pidsLimit) resources.pidsLimit = parseInteger(f.pidsLimit, '--pids-limit');
  if (f.cpusetCpus) resources.cpusetCpus = f.cpusetCpus;
  if (f.cpusetMems) resources.cpusetMems = f.cpusetMems;
  if (f.blkioWeight && f.blkioWeight !== '0') resources.blkioWeight = parseInteger(f.blkioWeight, '--blkio-weight');
  if (f.oomScoreAdj) resources.oomScoreAdj = parseInteger(f.oomScoreAdj, '--oom-score-adj');
  if (f.shmSize) resources.shmSize = parseBytes(f.shmSize, '--shm-size');
  if (f.ulimit) resources.ulimits = f.ulimit.map(parseUlimit);
  const mounts = [...(f.volume ?? []).map(parseVolumeFlag), ...(f.mount ?? []).map(parseMountFlag), ...(f.tmpfs ?? []).map(parseTmpfsFlag)].map(mountRequest);
  const env = Object.fromEntries(parseEnv(f.env, f.envFile).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const network = f.network ?? 'bridge';
  const joins = network !== 'none' && network !== 'host' && !network.startsWith('container:');
  const ports = (f.publish ?? []).flatMap(parsePortMappings);
  if (!joins && (ports.length || f.networkAlias?.length || f.ip)) {
    const what = ports.length ? '-p/--publish' : f.networkAlias?.length ? '--network-alias' : '--ip';
    throw new UserError(`${what} needs a bridge network, not --network ${network}`, 1, `drop ${what}, or run the container on a network (--network NAME)`);
  }
  return {
    ...(f.name !== undefined ? { name: f.name } : {}),
    image,
    labels: parseKeyValues(f.label, '--label'),
    ...(command.length ? { cmd: command } : {}),
    ...(f.entrypoint !== undefined ? { entrypoint: f.entrypoint === '' ? [] : [f.entrypoint] } : {}),
    ...(Object.keys(env).length ? { env } : {}),
    ...(mounts.length ? { mounts } : {}),
    ...(f.workdir !== undefined ? { workingDir: f.workdir } : {}),
    ...(f.user !== undefined ? { user: f.user } : {}),
    ...(f.tty ? { tty: true } : {}),
    ...(f.interactive ? { openStdin: true } : {}),
    ...(f.init ? { init: true } : {}),
    ...(Object.keys(resources).length ? { resources } : {}),
    ...(f.capAdd ? { capAdd: f.capAdd.flatMap((c) => c.split(',')) } : {}),
    ...(f.capDrop ? { capDrop: f.capDrop.flatMap((c) => c.split(',')) } : {}),
    ...(f.privileged ? { privileged: true } : {}),
    ...(f.readOnly ? { readOnly: true } : {}),
    ...(f.hostname !== undefined ? { hostname: f.hostname } : {}),
    ...(f.domainname !== undefined ? { domainname: f.domainname } : {}),
    ...(joins
      ? { networks: [{ network, ...(f.networkAlias ? { aliases: f.networkAlias } : {}), ...(f.ip ? { ipv4Address: f.ip } : {}) }] }
      : { networkMode: network }),
    ...(ports.length ? { ports } : {}),
    ...(f.addHost?.length ? { extraHosts: f.addHost } : {}),
    ...(f.dns?.length ? { dns: f.dns } : {}),
    ...(f.stopSignal ? { stopSignal: f.stopSignal } : {}),
    ...(f.stopTimeout !== undefined ? { stopTimeout: parseInteger(f.stopTimeout, '--stop-timeout') } : {}),
    ...(f.sysctl ? { sysctls: parseKeyValues(f.sysctl, '--sysctl') } : {}),
    ...(f.securityOpt?.length ? { securityOpt: f.securityOpt } : {}),
    ...(f.groupAdd ? { groupAdd: f.groupAdd } : {}),
    ...(f.rm ? { autoRemove: true } : {}),
  };
}
