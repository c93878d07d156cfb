import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { run, runOk, type RunResult } from '../../src/util/proc.js';
import { privateRoots, repoRoot } from './cache.js';
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

/** The CLI on the bed's manager, for projects under `work`: writes the project's compose.yaml when given. */
export function swarmCli(bed: () => SwarmBed, work: () => string) {
  const cli = join(repoRoot, 'dist/cli/main.js');
  return async (project: string, args: string[], yaml?: string, env: Record<string, string> = {}): Promise<RunResult> => {
    const dir = join(work(), project);
    mkdirSync(dir, { recursive: true });
    if (yaml !== undefined) writeFileSync(join(dir, 'compose.yaml'), yaml);
    return run(process.execPath, [cli, '--backend', 'swarm', '-p', project, ...args], {
      cwd: dir, env: { ...process.env, ...privateRoots(work()), DOCKER_HOST: bed().manager, NO_COLOR: '1', ...env },
    });
  };
}

/** The container of a service's task on node `node` (0-based; asked of the node's own dockerd). */
export async function containerOn(bed: SwarmBed, node: number, service: string): Promise<string> {
  const list = await bed.nodes[node]!.docker.listContainers({ filters: JSON.stringify({ label: [`com.docker.swarm.service.name=${service}`] }) });
  if (!list[0]) throw new Error(`no ${service} container on ${bed.nodes[node]!.name}`);
  return list[0].Id;
}

/** Runs `cmd` in a container on node `node`; its output (stdout and stderr, frame headers left in: callers match text). */
export async function execOn(bed: SwarmBed, node: number, container: string, cmd: string[]): Promise<string> {
  const e = await bed.nodes[node]!.docker.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b));
  await new Promise((r) => stream.on('end', r));
  return Buffer.concat(chunks).toString('latin1');
}
