import { mkdtempSync } from 'node:fs';
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
    await run('rm', ['-rf', join(dir, '..')]);
    if (r.code !== 0) throw new Error(`testbed down failed:\n${r.stderr}`);
  };
  try {
    const r = await run(SCRIPT, ['up', dir]);
    if (r.code !== 0) throw new Error(`testbed up failed (${r.code}):\n${r.stdout}${r.stderr}`);
    const env = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const nodes = [1, 2, 3].map((i) => {
      const [name, host, addr] = env[`TESTBED_NODE_${i}`]!.split(' ') as [string, string, string];
      return { name, host, addr, docker: new Dockerode({ socketPath: host.replace(/^unix:\/\//, '') }) };
    });
    const busybox = `${env.TESTBED_REGISTRY}/tsc/busybox:1`;
    await runOk(SCRIPT, ['push', dir, await busyboxRootfsTar(), busybox]);
    return { dir, registry: env.TESTBED_REGISTRY!, manager: env.TESTBED_MANAGER!, nodes, busybox, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
