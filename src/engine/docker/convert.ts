import type { ContainerInfo, ContainerInspectInfo } from 'dockerode';
import type {
  ContainerDetails,
  ContainerMount,
  ContainerNetwork,
  ContainerState,
  ContainerStats,
  ContainerSummary,
  HealthStatus,
  HealthcheckConfig,
  PortProtocol,
  PublishedPort,
  RestartPolicyName,
} from '../types.js';
import { humanStatus } from '../status.js';

const NS_PER_MS = 1_000_000;

/** A row of GET /containers/json. Health is only in the human status there: "(healthy)", "(health: starting)". */
export function summaryFromList(c: ContainerInfo): ContainerSummary {
  const networks = networksOf(c.NetworkSettings?.Networks);
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? '').replace(/^\//, ''),
    image: c.Image,
    imageId: c.ImageID,
    command: c.Command,
    created: c.Created * 1000,
    state: c.State as ContainerState,
    status: c.Status,
    health: healthFromStatus(c.Status),
    exitCode: exitCodeFromStatus(c.Status),
    labels: c.Labels ?? {},
    ports: (c.Ports ?? []).map((p) => ({
      target: p.PrivatePort,
      protocol: p.Type as PortProtocol,
      hostIp: p.IP || undefined,
      hostPort: p.PublicPort || undefined,
    })),
    networks,
    mounts: (c.Mounts ?? []).map(
      (m): ContainerMount => ({
        type: m.Type,
        name: m.Name || undefined,
        source: m.Source,
        target: m.Destination,
        readOnly: !m.RW,
      }),
    ),
  };
}

type DockerEndpoint = { NetworkID: string; IPAddress?: string; GlobalIPv6Address?: string; Aliases?: string[] | null; MacAddress?: string };

function networksOf(endpoints: Record<string, DockerEndpoint> | undefined): Record<string, ContainerNetwork> {
  const networks: Record<string, ContainerNetwork> = {};
  for (const [name, n] of Object.entries(endpoints ?? {})) {
    networks[name] = {
      networkId: n.NetworkID,
      ipv4Address: n.IPAddress || undefined,
      ipv6Address: n.GlobalIPv6Address || undefined,
      aliases: n.Aliases ?? [],
      macAddress: n.MacAddress || undefined,
    };
  }
  return networks;
}

function exitCodeFromStatus(status: string): number | undefined {
  const m = /^Exited \((\d+)\)/.exec(status);
  return m ? Number(m[1]) : undefined;
}

function healthFromStatus(status: string): HealthStatus | undefined {
  if (/\(healthy\)/.test(status)) return 'healthy';
  if (/\(unhealthy\)/.test(status)) return 'unhealthy';
  if (/\(health: starting\)/.test(status)) return 'starting';
  return undefined;
}

function parseTime(t: string | undefined): number | undefined {
  if (!t || t.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

export function detailsFromInspect(c: ContainerInspectInfo): ContainerDetails {
  const state = c.State.Status as ContainerState;
  const health = (c.State.Health?.Status || undefined) as HealthStatus | undefined;
  const startedAt = parseTime(c.State.StartedAt);
  const finishedAt = parseTime(c.State.FinishedAt);
  const networks = networksOf(c.NetworkSettings?.Networks);
  const ports: PublishedPort[] = [];
  for (const [key, bindings] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
    const [port, proto] = key.split('/');
    const target = Number(port);
    const protocol = (proto ?? 'tcp') as PortProtocol;
    if (!bindings || bindings.length === 0) ports.push({ target, protocol });
    else for (const b of bindings) ports.push({ target, protocol, hostIp: b.HostIp || undefined, hostPort: Number(b.HostPort) || undefined });
  }
  const config = c.Config as ContainerInspectInfo['Config'] & { StopSignal?: string; StopTimeout?: number };
  const stopTimeout = config.StopTimeout;
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    image: config.Image,
    imageId: c.Image,
    command: [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])].join(' '),
    created: parseTime(c.Created) ?? 0,
    state,
    status: humanStatus(state, Date.now(), startedAt, finishedAt, c.State.ExitCode, health),
    health,
    labels: config.Labels ?? {},
    ports,
    networks,
    mounts: (c.Mounts ?? []).map(
      (m): ContainerMount => ({ type: m.Type, name: m.Name || undefined, source: m.Source, target: m.Destination, readOnly: !m.RW }),
    ),
    exitCode: c.State.ExitCode,
    startedAt,
    finishedAt,
    restartCount: c.RestartCount,
    oomKilled: c.State.OOMKilled,
    pid: c.State.Pid,
    error: c.State.Error || undefined,
    hostname: config.Hostname,
    entrypoint: toArray(config.Entrypoint),
    cmd: toArray(config.Cmd),
    env: config.Env ?? [],
    user: config.User ?? '',
    workingDir: config.WorkingDir ?? '',
    tty: config.Tty,
    openStdin: config.OpenStdin,
    healthLog: (c.State.Health?.Log ?? []).map((l) => ({
      start: parseTime(l.Start) ?? 0,
      end: parseTime(l.End) ?? 0,
      exitCode: l.ExitCode,
      output: l.Output,
    })),
    restartPolicy: {
      name: ((c.HostConfig.RestartPolicy?.Name || 'no') as RestartPolicyName),
      maxRetries: c.HostConfig.RestartPolicy?.MaximumRetryCount || undefined,
    },
    stopSignal: config.StopSignal || undefined,
    stopTimeout,
  };
}

function toArray(v: string | string[] | undefined | null): string[] {
  if (!v) return [];
  return Array.isArray(v) ? v : [v];
}

export function healthcheckFromDocker(h: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number; StartInterval?: number } | undefined): HealthcheckConfig | undefined {
  if (!h?.Test?.length) return undefined;
  return {
    test: h.Test,
    interval: h.Interval ? h.Interval / NS_PER_MS : undefined,
    timeout: h.Timeout ? h.Timeout / NS_PER_MS : undefined,
    retries: h.Retries || undefined,
    startPeriod: h.StartPeriod ? h.StartPeriod / NS_PER_MS : undefined,
    startInterval: h.StartInterval ? h.StartInterval / NS_PER_MS : undefined,
  };
}

/** What dockerd answers to GET /containers/{id}/stats?stream=false (the fields read here; a stopped container's are empty). */
export interface DockerStatsReading {
  read?: string;
  id?: string;
  name?: string;
  pids_stats?: { current?: number; limit?: number };
  memory_stats?: { usage?: number; limit?: number; failcnt?: number; stats?: Record<string, number> };
  cpu_stats?: {
    cpu_usage?: { total_usage?: number };
    system_cpu_usage?: number;
    online_cpus?: number;
    throttling_data?: { throttled_periods?: number; throttled_time?: number };
  };
}

/**
 * dockerd's reading in the Engine's shape. Its memory.stat keys tell the
 * cgroup version: v1 names the hierarchy's totals `total_*`, v2 has none.
 */
export function statsFromDocker(r: DockerStatsReading): ContainerStats {
  const mem = r.memory_stats ?? {};
  const memStat = mem.stats ?? {};
  const v1 = 'total_inactive_file' in memStat;
  const cpu = r.cpu_stats ?? {};
  return {
    read: r.read ?? new Date(0).toISOString(),
    id: r.id ?? '',
    name: r.name ?? '',
    pids_stats: { current: r.pids_stats?.current ?? 0, ...(r.pids_stats?.limit !== undefined ? { limit: r.pids_stats.limit } : {}) },
    memory_stats: {
      usage: mem.usage ?? 0,
      limit: mem.limit ?? 0,
      stats: { inactive_file: (v1 ? memStat.total_inactive_file : memStat.inactive_file) ?? 0 },
      ...(mem.failcnt !== undefined ? { failcnt: mem.failcnt } : {}),
    },
    cpu_stats: {
      cpu_usage: { total_usage: cpu.cpu_usage?.total_usage ?? 0 },
      system_cpu_usage: cpu.system_cpu_usage ?? 0,
      online_cpus: cpu.online_cpus ?? 0,
      throttling_data: { throttled_periods: cpu.throttling_data?.throttled_periods ?? 0, throttled_time: cpu.throttling_data?.throttled_time ?? 0 },
    },
    ...(Object.keys(memStat).length ? { cgroup_version: v1 ? (1 as const) : (2 as const) } : {}),
  };
}
