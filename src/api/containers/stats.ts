import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerStats, Engine } from '../../engine/types.js';
import { NotFoundError } from '../../util/errors.js';
import type { Call } from '../router.js';
import { boolParam, sendJson } from '../http.js';

/**
 * `GET /containers/{id}/stats`: the Engine's reading of the container's
 * cgroup in Docker's shape, with `precpu_stats` from the reading before
 * (what `docker stats` divides), network counters from the container's
 * namespace, and as a stream (one reading a second) unless `stream=false`.
 */

interface Reading {
  stats: ContainerStats;
  networks?: Record<string, Record<string, number>>;
}

/** Interface counters as /proc/<pid>/net/dev of a process in the container's network namespace shows them. */
export function networkCounters(pid: number): Record<string, Record<string, number>> | undefined {
  if (!pid) return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/net/dev`, 'utf8');
  } catch {
    return undefined;
  }
  const out: Record<string, Record<string, number>> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const n = m[2]!.trim().split(/\s+/).map(Number);
    out[m[1]!] = {
      rx_bytes: n[0]!, rx_packets: n[1]!, rx_errors: n[2]!, rx_dropped: n[3]!,
      tx_bytes: n[8]!, tx_packets: n[9]!, tx_errors: n[10]!, tx_dropped: n[11]!,
    };
  }
  return out;
}

async function read(engine: Engine, id: string, pid: number): Promise<Reading> {
  const stats = await engine.containers.stats(id);
  const networks = networkCounters(pid);
  return { stats, ...(networks ? { networks } : {}) };
}

const ZERO_CPU = { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };

function dockerStats(now: Reading, before: Reading | undefined, name: string): Record<string, unknown> {
  const s = now.stats;
  const cpu = (r: ContainerStats) => ({
    cpu_usage: { total_usage: r.cpu_stats.cpu_usage.total_usage, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    system_cpu_usage: r.cpu_stats.system_cpu_usage,
    online_cpus: r.cpu_stats.online_cpus,
    throttling_data: { periods: 0, throttled_periods: r.cpu_stats.throttling_data.throttled_periods, throttled_time: r.cpu_stats.throttling_data.throttled_time },
  });
  return {
    read: s.read,
    preread: before?.stats.read ?? '0001-01-01T00:00:00Z',
    pids_stats: s.pids_stats,
    blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu(s),
    precpu_stats: before ? cpu(before.stats) : ZERO_CPU,
    memory_stats: s.memory_stats.limit ? { ...s.memory_stats } : {},
    name: `/${name}`,
    id: s.id,
    ...(now.networks ? { networks: now.networks } : {}),
  };
}

export async function stats(c: Call): Promise<void> {
  const { engine } = c.ctx;
  const d = await engine.containers.inspect(c.params[0]!);
  if (!d) throw new NotFoundError('container', c.params[0]!);
  const stream = boolParam(c.query, 'stream', true);
  const oneShot = boolParam(c.query, 'one-shot');
  if (!stream) {
    // Docker's one reading carries the reading before it, a moment earlier, unless one-shot asks for none.
    const before = oneShot || d.state !== 'running' ? undefined : await read(engine, d.id, d.pid);
    if (before) await sleep(500);
    sendJson(c.res!, 200, dockerStats(await read(engine, d.id, d.pid), before, d.name));
    return;
  }
  const res = c.res!;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  let gone = false;
  res.once('close', () => (gone = true));
  let before: Reading | undefined;
  while (!gone && !c.ctx.closing.aborted) {
    const now = await read(engine, d.id, d.pid);
    res.write(`${JSON.stringify(dockerStats(now, before, d.name))}\n`);
    before = now;
    await sleep(1000);
    if (!(await engine.containers.inspect(d.id))) break;
  }
  res.end();
}
