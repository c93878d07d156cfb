import { runOk, run } from '../../../src/util/proc.js';

/**
 * What an engine holds of a compose project, found by the labels every
 * compose implementation puts on what it makes (com.docker.compose.project).
 * The scenario reads state through this, never through the CLI under test,
 * so that a CLI that forgets something cannot also hide it.
 */
export interface ProjectContainer {
  id: string;
  name: string;
  service: string;
  /** created | running | exited | restarting ... */
  status: string;
  /** healthy | unhealthy | starting, or undefined without a healthcheck. */
  health?: string;
  startedAt: Date;
  restartCount: number;
  /** Names of the volumes mounted, named or anonymous. */
  volumes: string[];
}

export interface ProjectNetwork {
  name: string;
  subnets: string[];
}

export interface ProjectInventory {
  containers(project: string): Promise<ProjectContainer[]>;
  networks(project: string): Promise<ProjectNetwork[]>;
  volumes(project: string): Promise<string[]>;
  volumeExists(name: string): Promise<boolean>;
  /** The last lines of a container's output, for failure messages. */
  logs(containerId: string, tail: number): Promise<string>;
  /** Removes whatever of the project is left, whatever state it is in (test clean-up after a failure). */
  removeAll(project: string): Promise<void>;
}

const label = (project: string) => `label=com.docker.compose.project=${project}`;

async function ids(kind: 'ps -a' | 'network ls' | 'volume ls', project: string): Promise<string[]> {
  const out = await runOk('docker', [...kind.split(' '), '--filter', label(project), '-q']);
  return out.split('\n').map((s) => s.trim()).filter(Boolean);
}

async function inspect<T>(kind: 'container' | 'network', list: string[]): Promise<T[]> {
  if (list.length === 0) return [];
  // An object can go away between the listing and the inspection (down running): inspect one by one.
  const out: T[] = [];
  for (const id of list) {
    const r = await run('docker', [kind, 'inspect', id]);
    if (r.code === 0) out.push(...(JSON.parse(r.stdout) as T[]));
  }
  return out;
}

interface DockerContainerJson {
  Id: string;
  Name: string;
  RestartCount: number;
  Config: { Labels: Record<string, string> | null };
  State: { Status: string; StartedAt: string; Health?: { Status: string } };
  Mounts: Array<{ Type: string; Name?: string }>;
}

interface DockerNetworkJson {
  Name: string;
  IPAM: { Config: Array<{ Subnet?: string }> | null };
}

export const dockerInventory: ProjectInventory = {
  async containers(project) {
    const list = await inspect<DockerContainerJson>('container', await ids('ps -a', project));
    return list.map((c) => ({
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      service: c.Config.Labels?.['com.docker.compose.service'] ?? '',
      status: c.State.Status,
      health: c.State.Health?.Status,
      startedAt: new Date(c.State.StartedAt),
      restartCount: c.RestartCount,
      volumes: c.Mounts.filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name!),
    }));
  },

  async networks(project) {
    const list = await inspect<DockerNetworkJson>('network', await ids('network ls', project));
    return list.map((n) => ({ name: n.Name, subnets: (n.IPAM.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s) }));
  },

  volumes: (project) => ids('volume ls', project),

  async volumeExists(name) {
    return (await run('docker', ['volume', 'inspect', name])).code === 0;
  },

  async logs(containerId, tail) {
    const r = await run('docker', ['logs', '--tail', String(tail), containerId]);
    return `${r.stdout}${r.stderr}`;
  },

  async removeAll(project) {
    const containers = await this.containers(project);
    if (containers.length) await run('docker', ['rm', '-f', '-v', ...containers.map((c) => c.id)]);
    for (const n of await ids('network ls', project)) await run('docker', ['network', 'rm', n]);
    const anonymous = containers.flatMap((c) => c.volumes);
    for (const v of [...(await ids('volume ls', project)), ...anonymous]) await run('docker', ['volume', 'rm', '-f', v]);
  },
};
