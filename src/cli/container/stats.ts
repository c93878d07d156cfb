import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { ContainerStats, Engine } from '../../engine/types.js';
import { cpuPercent, memoryInUse } from '../../engine/stats.js';
import { objectEngine } from '../objects.js';
import { renderTemplate, table } from '../present/docker.js';

/**
 * `tscompose container stats`: docker stats for the native engine, through
 * the Engine, which reads the containers' cgroups (v1 or v2). CPU % is the difference of two
 * readings a second apart, as dockerd computes it; memory is the usage
 * without the inactive page cache, as the docker CLI shows it.
 */

export interface StatsRow {
  ID: string;
  Container: string;
  Name: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
}

/** Docker's units.BytesSize: binary units, four significant digits. */
export function bytesSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}

export function statsRow(before: ContainerStats, after: ContainerStats, noTrunc = false): StatsRow {
  const used = memoryInUse(after);
  const limit = after.memory_stats.limit;
  return {
    ID: noTrunc ? after.id : after.id.slice(0, 12),
    Container: noTrunc ? after.id : after.id.slice(0, 12),
    Name: after.name.replace(/^\//, ''),
    CPUPerc: `${cpuPercent(before, after).toFixed(2)}%`,
    MemUsage: `${bytesSize(used)} / ${bytesSize(limit)}`,
    MemPerc: `${(limit > 0 ? (used / limit) * 100 : 0).toFixed(2)}%`,
    // Not read by the native engine yet: the network counters live in the container's namespace.
    NetIO: '--',
    BlockIO: '--',
    PIDs: String(after.pids_stats.current),
  };
}

export function renderStats(rows: StatsRow[], format?: string): string {
  if (format === 'json') return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  if (format && format !== 'table') return rows.map((r) => `${renderTemplate(format.replace(/^table\s+/, ''), r)}\n`).join('');
  return table([
    ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'],
    ...rows.map((r) => [r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs]),
  ]);
}

export interface StatsFlags { all?: boolean; stream?: boolean; trunc?: boolean; format?: string }

/** The stats flags docker stats and compose stats share. */
export function statsOptions(c: Command): Command {
  return c
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('--no-stream', 'Disable streaming stats and only pull the first result')
    .option('--no-trunc', 'Do not truncate output')
    .option('--format <string>', "Format output using a template ('table', 'json' or a Go-like template)");
}

/** Prints readings a second apart for the containers `ids` names: once with --no-stream, else until interrupted. */
export async function printStats(engine: Engine, ids: string[], o: StatsFlags): Promise<void> {
  let before = await Promise.all(ids.map((id) => engine.containers.stats(id)));
  for (;;) {
    await sleep(1000);
    const after = await Promise.all(ids.map((id) => engine.containers.stats(id)));
    const text = renderStats(after.map((a, i) => statsRow(before[i]!, a, o.trunc === false)), o.format);
    // A terminal is redrawn in place, as docker stats does; a pipe gets one table per second.
    process.stdout.write(o.stream !== false && process.stdout.isTTY ? `\x1b[2J\x1b[H${text}` : text);
    if (o.stream === false) return;
    before = after;
  }
}

export function defineStats(c: Command): Command {
  return statsOptions(c.description("Display a live stream of containers' resource usage statistics").argument('[container...]'))
    .action(async (refs: string[], o: StatsFlags, cmd: Command) => {
      const engine = await objectEngine(cmd, 'container');
      const ids = refs.length ? refs : (await engine.containers.list({ all: o.all ?? false })).map((c) => c.id);
      await printStats(engine, ids, o);
    });
}
