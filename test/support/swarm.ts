import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { run, runOk } from '../../src/util/proc.js';
import { repoRoot } from './cache.js';
import { busyboxRootfsTar } from './images.js';

/**
 * The 3-node swarm of test/swarm/testbed.sh for a test file: up in a temp dir
 * of its own (its own subnet, netns, dockerds and registry), the busybox image
 * pushed to its registry; `stop` tears all of it down, whatever state it is in.
 */

export interface SwarmNode {
  name: string;
  host: string;
  addr: string;
  /** Its network namespace (`ip -n NETNS ...`). */
  netns: string;
  docker: Dockerode;
}

export interface SwarmBed {
  dir: string;
  registry: string;
  manager: string;
  nodes: SwarmNode[];
  /** <registry>/tsc/busybox:1, in the registry only (no node has it before it pulls). */
  busybox: string;
  stop(): Promise<void>;
}

const SCRIPT = join(repoRoot, 'test/swarm/testbed.sh');

export async function startSwarmBed(): Promise<SwarmBed> {
  const dir = join(mkdtempSync(join(tmpdir(), 'tsc-swarm-')), 'bed');
  const stop = async () => {
    const r = await run(SCRIPT, ['down', dir]);
    rmSync(join(dir, '..'), { recursive: true, force: true });
    if (r.code !== 0) throw new Error(`testbed down failed:\n${r.stderr}`);
    const left = await leftovers(dir);
    if (left.length) throw new Error(`testbed down left:\n${left.join('\n')}`);
  };
  try {
    const r = await run(SCRIPT, ['up', dir]);
    if (r.code !== 0) throw new Error(`testbed up failed (${r.code}):\n${r.stdout}${r.stderr}`);
    const env = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const nodes = [1, 2, 3].map((i) => {
      const [name, host, addr, netns] = env[`TESTBED_NODE_${i}`]!.split(' ') as [string, string, string, string];
      return { name, host, addr, netns, docker: new Dockerode({ socketPath: host.replace(/^unix:\/\//, '') }) };
    });
    const busybox = `${env.TESTBED_REGISTRY}/tsc/busybox:1`;
    await runOk(SCRIPT, ['push', dir, await busyboxRootfsTar(), busybox]);
    return { dir, registry: env.TESTBED_REGISTRY!, manager: env.TESTBED_MANAGER!, nodes, busybox, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/**
 * What of the bed in `dir` is still on the host: its netns and host link (named from the hash
 * of dir, as the script names them), cgroups, mounts, processes naming dir, the dir itself.
 */
export async function leftovers(dir: string): Promise<string[]> {
  const tag = createHash('sha256').update(dir).digest('hex').slice(0, 6);
  const left: string[] = [];
  const netns = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(`tscsw-${tag}-`)) : [];
  left.push(...netns.map((n) => `netns ${n}`));
  const links = await run('ip', ['-o', 'link', 'show']);
  if (links.stdout.includes(`tscsw${tag}h`)) left.push(`link tscsw${tag}h`);
  for (const ctl of readdirSync('/sys/fs/cgroup')) {
    const base = join('/sys/fs/cgroup', ctl);
    if (existsSync(base) && readdirSync(base).some((c) => c.startsWith(`tscsw-${tag}-`))) left.push(`cgroup ${ctl}/tscsw-${tag}-*`);
  }
  left.push(...readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(dir)).map((l) => `mount ${l.split(' ')[1]}`));
  const ps = await run('ps', ['-eo', 'pid=,args=']);
  left.push(...ps.stdout.split('\n').filter((l) => l.includes(`${dir}/`)).map((l) => `process ${l.trim()}`));
  if (existsSync(dir)) left.push(`dir ${dir}`);
  return left;
}
