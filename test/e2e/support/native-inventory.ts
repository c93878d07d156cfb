import { NativeEngine } from '../../../src/engine/native/engine/index.js';
import type { ProjectInventory } from './docker-inventory.js';

/**
 * What the native engine holds of a compose project, read in this process
 * through the Engine (never through the CLI under test), from the state root
 * the test's environment names.
 */
const label = (project: string) => ({ 'com.docker.compose.project': project });
let engine: NativeEngine | undefined;
const e = () => (engine ??= new NativeEngine());

export const nativeInventory: ProjectInventory = {
  async containers(project) {
    const out = [];
    for (const c of await e().containers.list({ all: true, labels: label(project) })) {
      const d = await e().containers.inspect(c.id);
      if (!d) continue;
      out.push({
        id: d.id,
        name: d.name,
        service: d.labels['com.docker.compose.service'] ?? '',
        status: d.state,
        health: d.health,
        startedAt: new Date(d.startedAt ?? 0),
        restartCount: d.restartCount,
        volumes: d.mounts.filter((m) => m.type === 'volume' && m.name).map((m) => m.name!),
      });
    }
    return out;
  },

  async networks(project) {
    return (await e().networks.list({ labels: label(project) })).map((n) => ({ name: n.name, subnets: n.ipam.map((p) => p.subnet).filter((s): s is string => !!s) }));
  },

  async volumes(project) {
    return (await e().volumes.list({ labels: label(project) })).map((v) => v.name);
  },

  async volumeExists(name) {
    return (await e().volumes.inspect(name)) !== undefined;
  },

  async logs(containerId, tail) {
    const lines: string[] = [];
    for await (const l of e().containers.logs(containerId, { tail })) lines.push(l.text);
    return lines.join('\n');
  },

  async removeAll(project) {
    const containers = await this.containers(project);
    for (const c of containers) await e().containers.remove(c.id, { force: true, volumes: true }).catch(() => undefined);
    for (const n of await e().networks.list({ labels: label(project) })) await e().networks.remove(n.id).catch(() => undefined);
    for (const v of [...(await this.volumes(project)), ...containers.flatMap((c) => c.volumes)]) await e().volumes.remove(v, true).catch(() => undefined);
  },
};
