import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from '../../src/util/proc.js';
import { repoRoot } from '../support/cache.js';
import { busyboxRootfsTar } from '../support/images.js';
import { runCli, type NetEnv } from './support.js';

/**
 * Real containers for network tests: the busybox image imported into the
 * test's own roots, and `tscompose container ...` driven as a user would.
 */

export interface Tsc {
  (...args: string[]): Promise<RunResult>;
  ok(...args: string[]): Promise<string>;
}

export function tscFor(env: NetEnv): Tsc {
  const call = (...args: string[]) => runCli(env.build, env.env, args);
  const tsc = call as Tsc;
  tsc.ok = async (...args: string[]) => {
    const r = await call(...args);
    if (r.code !== 0) throw new Error(`tscompose ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  return tsc;
}

export async function importBusybox(tsc: Tsc): Promise<void> {
  await tsc.ok('image', 'import', await busyboxRootfsTar(), 'busybox:latest');
}

/**
 * Lets a busybox container run the host's node (for a UDP server, or a DNS
 * client that reports rcodes and TTLs): node and its libraries bind-mounted
 * read-only, the way Debian 12 lays them out (merged /usr).
 */
export const NODE_MOUNTS = [
  '-v', '/usr/lib:/lib:ro', '-v', '/usr/lib:/usr/lib:ro', '-v', '/usr/lib64:/lib64:ro',
  '-v', `${process.execPath}:/usr/local/bin/node:ro`,
  '-v', `${join(repoRoot, 'test/network/fixtures')}:/fixtures:ro`,
  '-v', `${join(repoRoot, 'node_modules')}:/node_modules:ro`,
];

/** Removes every container of the test's roots (whatever state they are in). */
export async function removeAllContainers(tsc: Tsc): Promise<void> {
  const ids = (await tsc('container', 'ls', '-aq', '--no-trunc')).stdout.split('\n').filter(Boolean);
  if (ids.length) await tsc('container', 'rm', '-f', ...ids);
}

/** The network daemon's keeper (`tsc-helper keep`, which names itself tsc-keep). */
function isKeeper(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'tsc-keep';
  } catch {
    return false;
  }
}

/** Processes of ours serving the test's state root (container monitors, their children, the network daemon), not us. */
export function processesOfRoot(stateRoot: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, 'utf8').split('\0').includes(`TSCOMPOSE_ROOT=${stateRoot}`)) out.push(Number(e));
    } catch { /* gone */ }
  }
  // The daemon's keeper first: whoever kills these in order must not leave it time to start a new daemon.
  return out.sort((a, b) => Number(isKeeper(b)) - Number(isKeeper(a)));
}
