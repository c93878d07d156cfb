import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { Engine, EngineEvent, EngineInfo, EventFilter } from '../types.js';
import { DockerContainers } from './containers.js';
import { DockerNetworks } from './networks.js';
import { DockerVolumes } from './volumes.js';
import { DockerImages } from './images.js';
import { call } from './errors.js';
import { labelFilters } from './filters.js';
import { loadDockerode } from './load.js';

/**
 * The Engine on a Docker Engine, through dockerode, against DOCKER_HOST or
 * /var/run/docker.sock. dockerode's types stay in this folder.
 */
export class DockerEngine implements Engine {
  readonly backend = 'docker' as const;
  readonly containers: DockerContainers;
  readonly networks: DockerNetworks;
  readonly volumes: DockerVolumes;
  readonly images: DockerImages;

  private constructor(private readonly docker: Docker) {
    this.containers = new DockerContainers(docker);
    this.networks = new DockerNetworks(docker);
    this.volumes = new DockerVolumes(docker);
    this.images = new DockerImages(docker);
  }

  /** Connects (lazily: the first call opens the socket) to the daemon DOCKER_HOST names, or the default socket. */
  static connect(): DockerEngine {
    const Dockerode = loadDockerode();
    return new DockerEngine(new Dockerode());
  }

  async info(): Promise<EngineInfo> {
    const v = await call('engine', 'docker', 'query the version of', () => this.docker.version());
    return { backend: 'docker', name: 'Docker Engine', version: v.Version, apiVersion: v.ApiVersion, os: v.Os, arch: v.Arch };
  }

  async *events(filter: EventFilter, signal: AbortSignal): AsyncIterable<EngineEvent> {
    const filters = labelFilters(filter.labels);
    if (filter.types?.length) filters.type = filter.types;
    let stream: Readable;
    try {
      const since = filter.since !== undefined ? { since: (filter.since / 1000).toFixed(3) } : {};
      // dockerd ends the stream itself at `until` (after the replay when it is past).
      const until = filter.until !== undefined ? { until: (filter.until / 1000).toFixed(3) } : {};
      stream = (await this.docker.getEvents({ filters: JSON.stringify(filters), ...since, ...until, abortSignal: signal } as Docker.GetEventsOptions)) as unknown as Readable;
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
    const onAbort = () => stream.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    let buffered = '';
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          if (!line.trim()) continue;
          const e = JSON.parse(line) as { Type: string; Action: string; Actor: { ID: string; Attributes?: Record<string, string> }; timeNano: number };
          yield { time: Math.floor(e.timeNano / 1e6), type: e.Type, action: e.Action, id: e.Actor.ID, attributes: e.Actor.Attributes ?? {} };
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
      stream.destroy();
    }
  }

  async close(): Promise<void> {
    // dockerode keeps no connection open between calls.
  }
}
