import { humanStatus } from '../../status.js';
import type {
  ContainerDetails, ContainerMount, ContainerNetwork, ContainerState, ContainerSummary, DockerObject, HealthStatus, PortProtocol, PublishedPort,
} from '../../types.js';
import type { ContainerInspect } from '../runtime/index.js';
import type { ActualPort, NetworkRecord } from '../../../network/index.js';
import { filesDir, restartCountOf, type EngineRecord, type Intent, type SupervisorState } from './records.js';

/**
 * The Engine's view of a container, from the runtime's inspect, the
 * Engine's own records (health, restarts, ports and networks asked for),
 * the network's endpoints and the ports as bound. Statuses are Docker's:
 * paused from the freezer, restarting while the supervisor waits out a
 * backoff, health from the supervisor's last probes of this very run.
 */

export interface ContainerFacts {
  info: ContainerInspect;
  record: EngineRecord;
  intent?: Intent;
  supervisor?: SupervisorState;
  paused: boolean;
  ports: ActualPort[];
  networks: Record<string, ContainerNetwork>;
}

const ZERO = '0001-01-01T00:00:00Z';

function time(t: string): number | undefined {
  if (!t || t === ZERO) return undefined;
  const ms = Date.parse(t.replace(/(\.\d{3})\d*Z$/, '$1Z'));
  return Number.isNaN(ms) ? undefined : ms;
}

/** Each container's endpoints by network name, from one read of the network records. */
export function networksByContainer(records: readonly NetworkRecord[]): Map<string, Record<string, ContainerNetwork>> {
  const out = new Map<string, Record<string, ContainerNetwork>>();
  for (const n of records) {
    for (const ep of Object.values(n.endpoints)) {
      const mine = out.get(ep.containerId) ?? {};
      mine[n.name] = {
        networkId: n.id, ipv4Address: ep.ipv4, aliases: [...ep.aliases], macAddress: ep.mac,
        gateway: n.gateway, prefixLen: Number(n.subnet.split('/')[1]), endpointId: ep.endpointId, ...(n.isDefault ? { isDefault: true } : {}),
      };
      out.set(ep.containerId, mine);
    }
  }
  return out;
}

export function stateOf(f: ContainerFacts): ContainerState {
  const s = f.info.State;
  if (s.Running) return f.paused ? 'paused' : 'running';
  const sup = f.supervisor;
  if (sup?.restarting && f.intent?.wanted === 'running' && sup.generation === f.intent.generation) return 'restarting';
  return s.Status === 'created' ? 'created' : s.Status === 'exited' ? 'exited' : (s.Status as ContainerState);
}

function healthOf(f: ContainerFacts): { status?: HealthStatus; log: ContainerDetails['healthLog'] } {
  if (!f.record.healthcheck) return { log: [] };
  const h = f.supervisor?.health;
  const thisRun = h !== undefined && h.startedAt === f.info.State.StartedAt;
  if (f.info.State.Running) return thisRun ? { status: h.status, log: h.log } : { status: 'starting', log: [] };
  return h ? { status: h.status, log: h.log } : { log: [] };
}

function portsOf(f: ContainerFacts): PublishedPort[] {
  if (!f.info.State.Running) return [];
  const out: PublishedPort[] = [];
  const bound = new Set<string>();
  for (const p of f.ports) {
    out.push({ target: p.target, protocol: p.protocol, hostIp: p.hostIp, hostPort: p.hostPort });
    bound.add(`${p.target}/${p.protocol}`);
  }
  for (const e of f.record.exposedPorts) {
    if (bound.has(e)) continue;
    const [port, proto] = e.split('/');
    const target = Number(port);
    if (Number.isInteger(target)) out.push({ target, protocol: (proto ?? 'tcp') as PortProtocol });
  }
  return out;
}

function mountsOf(f: ContainerFacts): ContainerMount[] {
  const files = f.record.filesToken ? filesDir(f.record.filesToken) : undefined;
  const tmpfs = new Set(f.record.tmpfsTargets ?? []);
  const shown = (m: ContainerFacts['info']['Mounts'][number]) =>
    !(files && m.Source.startsWith(`${files}/`)) && !(m.Type === 'tmpfs' && tmpfs.has(m.Destination));
  return f.info.Mounts.filter(shown).map((m) => ({
    type: m.Type,
    ...(m.Name ? { name: m.Name } : {}),
    source: m.Source,
    target: m.Destination,
    readOnly: !m.RW,
  }));
}

function networksOf(f: ContainerFacts): Record<string, ContainerNetwork> {
  const mode = f.record.networkMode;
  if (mode === 'host' || mode === 'none') return { [mode]: { networkId: mode, aliases: [] } };
  return f.networks;
}

export function toDetails(f: ContainerFacts, now = Date.now()): ContainerDetails {
  const { info } = f;
  const state = stateOf(f);
  const health = healthOf(f);
  const startedAt = time(info.State.StartedAt);
  const finishedAt = time(info.State.FinishedAt);
  const entrypoint = info.Config.Entrypoint ?? [];
  const cmd = info.Config.Cmd ?? [];
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    image: info.Config.Image,
    imageId: info.Image,
    command: [info.Path, ...info.Args].map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' '),
    created: time(info.Created) ?? 0,
    state,
    status: humanStatus(state, now, startedAt, finishedAt, info.State.ExitCode, state === 'running' ? health.status : undefined),
    ...(health.status ? { health: health.status } : {}),
    exitCode: info.State.ExitCode,
    labels: info.Config.Labels,
    ports: portsOf(f),
    networks: networksOf(f),
    mounts: mountsOf(f),
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(finishedAt !== undefined ? { finishedAt } : {}),
    restartCount: restartCountOf(f.intent, f.supervisor),
    oomKilled: info.State.OOMKilled,
    pid: info.State.Pid,
    ...(info.State.Error || f.supervisor?.error ? { error: info.State.Error || f.supervisor?.error } : {}),
    hostname: info.Config.Hostname,
    entrypoint,
    cmd,
    env: info.Config.Env,
    user: info.Config.User,
    workingDir: info.Config.WorkingDir,
    tty: info.Config.Tty,
    openStdin: info.Config.OpenStdin,
    healthLog: health.log,
    restartPolicy: f.record.restart,
    ...(info.Config.StopSignal ? { stopSignal: info.Config.StopSignal } : {}),
    ...(info.Config.StopTimeout !== undefined ? { stopTimeout: info.Config.StopTimeout } : {}),
  };
}

/** A summary as `list` gives it: health only while running (Docker's list derives it from the status). */
export function toSummary(d: ContainerDetails): ContainerSummary {
  return {
    id: d.id,
    name: d.name,
    image: d.image,
    imageId: d.imageId,
    command: d.command,
    created: d.created,
    state: d.state,
    status: d.status,
    ...(d.state === 'running' && d.health ? { health: d.health } : {}),
    ...(d.state === 'exited' ? { exitCode: d.exitCode } : {}),
    labels: d.labels,
    ports: d.ports,
    networks: d.networks,
    mounts: d.mounts,
  };
}

/**
 * Docker's inspect JSON: the runtime's (which has Docker's shape already)
 * with what only the Engine knows over it, as dockerd reports it: paused and
 * restarting, health with its recent probes, restart count and policy, the
 * networks with their addresses and aliases, the ports as bound.
 */
export function dockerInspect(f: ContainerFacts, d: ContainerDetails): DockerObject {
  const { info, record } = f;
  const networks: Record<string, unknown> = {};
  for (const [name, n] of Object.entries(d.networks)) networks[name] = endpointJson(n, d.id, name);
  const ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const p of d.ports) {
    const key = `${p.target}/${p.protocol}`;
    if (p.hostPort === undefined) ports[key] ??= null;
    else ports[key] = [...(ports[key] ?? []), { HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) }];
  }
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of record.ports) (bindings[`${p.target}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: p.published ?? '' });
  const defaultBridge = Object.values(d.networks).find((n) => n.isDefault);
  const h = record.healthcheck;
  const ns = (ms: number) => ms * 1_000_000;
  return {
    ...info,
    State: {
      ...info.State,
      Status: d.state,
      Paused: d.state === 'paused',
      Restarting: d.state === 'restarting',
      ...(record.healthcheck
        ? { Health: { Status: d.health ?? 'starting', FailingStreak: f.supervisor?.health?.failingStreak ?? 0, Log: d.healthLog.map((x) => ({ Start: new Date(x.start).toISOString(), End: new Date(x.end).toISOString(), ExitCode: x.exitCode, Output: x.output })) } }
        : {}),
    },
    RestartCount: d.restartCount,
    HostConfig: {
      ...info.HostConfig,
      NetworkMode: record.networkMode ?? (defaultBridge || record.networks.length === 0 ? 'default' : record.networks[0]!.network),
      PortBindings: bindings,
      RestartPolicy: { Name: d.restartPolicy.name, MaximumRetryCount: d.restartPolicy.maxRetries ?? 0 },
      LogConfig: { Type: 'json-file', Config: {} },
    },
    Config: {
      ...info.Config,
      ExposedPorts: record.exposedPorts.length ? Object.fromEntries(record.exposedPorts.map((p) => [p, {}])) : null,
      ...(h ? { Healthcheck: { Test: h.test, Interval: ns(h.interval), Timeout: ns(h.timeout), Retries: h.retries, StartPeriod: ns(h.startPeriod), StartInterval: ns(h.startInterval) } } : {}),
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      SandboxKey: '',
      Ports: ports,
      // Docker shows the default bridge's endpoint at the top too (clients of the old API read it there).
      EndpointID: defaultBridge?.endpointId ?? '',
      Gateway: defaultBridge?.gateway ?? '',
      IPAddress: defaultBridge?.ipv4Address ?? '',
      IPPrefixLen: defaultBridge?.prefixLen ?? 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: defaultBridge?.macAddress ?? '',
      Networks: networks,
    },
  };
}

/** One network's endpoint as inspect shows it; on a user network the container's short id is an alias too (its DNS answers it). */
function endpointJson(n: ContainerNetwork, id: string, name: string): Record<string, unknown> {
  const userNetwork = !n.isDefault && name !== 'host' && name !== 'none';
  return dockerEndpoint(n, userNetwork ? [...new Set([...n.aliases, id.slice(0, 12)])] : n.aliases);
}

/** An endpoint in Docker's shape (inspect's, and the API server's list). */
export function dockerEndpoint(n: ContainerNetwork, aliases: string[] = n.aliases): Record<string, unknown> {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: aliases.length ? aliases : null,
    NetworkID: n.networkId,
    EndpointID: n.endpointId ?? '',
    Gateway: n.gateway ?? '',
    IPAddress: n.ipv4Address ?? '',
    IPPrefixLen: n.prefixLen ?? 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: n.macAddress ?? '',
    DriverOpts: null,
  };
}
