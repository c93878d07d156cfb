import type Docker from 'dockerode';
import type { DockerObject, LabelFilter, VolumeApi, VolumeCreateRequest, VolumeSummary } from '../types.js';
import { call, callOrUndefined } from './errors.js';
import { EngineError } from '../types.js';
import { labelFilters } from './filters.js';

const KIND = 'volume';

interface DockerVolume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  CreatedAt?: string;
}

function summary(v: DockerVolume): VolumeSummary {
  return {
    name: v.Name,
    driver: v.Driver,
    labels: v.Labels ?? {},
    mountpoint: v.Mountpoint,
    created: v.CreatedAt ? Date.parse(v.CreatedAt) || undefined : undefined,
    options: v.Options ?? {},
  };
}

export class DockerVolumes implements VolumeApi {
  constructor(private readonly docker: Docker) {}

  async create(spec: VolumeCreateRequest): Promise<VolumeSummary> {
    const label = spec.name ?? 'anonymous';
    const v = (await call(KIND, label, 'create', () =>
      this.docker.createVolume({ ...(spec.name ? { Name: spec.name } : {}), Driver: spec.driver ?? 'local', DriverOpts: spec.driverOpts ?? {}, Labels: spec.labels }),
    )) as unknown as DockerVolume | { name?: string };
    // dockerode resolves with a Volume handle, not the daemon's answer: read it back.
    if ('Mountpoint' in v) return summary(v as DockerVolume);
    const name = spec.name ?? (v as { name?: string }).name;
    const back = name ? await this.inspect(name) : undefined;
    if (!back) throw new Error(`volume ${label} vanished right after it was created`);
    return back;
  }

  async remove(name: string, force = false): Promise<void> {
    await call(KIND, name, 'remove', () => this.docker.getVolume(name).remove({ force }));
  }

  async inspect(name: string): Promise<VolumeSummary | undefined> {
    const v = (await callOrUndefined(KIND, name, 'inspect', () => this.docker.getVolume(name).inspect())) as DockerVolume | undefined;
    return v ? summary(v) : undefined;
  }

  async inspectRaw(name: string): Promise<DockerObject | undefined> {
    return (await callOrUndefined(KIND, name, 'inspect', () => this.docker.getVolume(name).inspect())) as DockerObject | undefined;
  }

  async list(filter: LabelFilter & { dangling?: boolean } = {}): Promise<VolumeSummary[]> {
    const filters = { ...labelFilters(filter.labels), ...(filter.dangling !== undefined ? { dangling: [String(filter.dangling)] } : {}) };
    const r = (await call(KIND, 'list', 'list', () => this.docker.listVolumes({ filters: JSON.stringify(filters) }))) as {
      Volumes: DockerVolume[] | null;
    };
    return (r.Volumes ?? []).map(summary);
  }

  async prune(options: LabelFilter & { all?: boolean } = {}): Promise<{ removed: string[]; reclaimedBytes: number }> {
    const prune = async (all: boolean) => {
      const filters = { ...labelFilters(options.labels), ...(all ? { all: ['true'] } : {}) };
      return (await call(KIND, 'unused', 'prune', () => this.docker.pruneVolumes({ filters: JSON.stringify(filters) } as Docker.VolumePruneOptions))) as Docker.PruneVolumesInfo;
    };
    let r: Docker.PruneVolumesInfo;
    try {
      r = await prune(options.all ?? false);
    } catch (err) {
      // Before API 1.42 (Docker 23) there is no `all` filter: such a daemon prunes named volumes anyway.
      if (!(options.all && err instanceof EngineError && /invalid filter 'all'/i.test(err.message))) throw err;
      r = await prune(false);
    }
    return { removed: r.VolumesDeleted ?? [], reclaimedBytes: r.SpaceReclaimed ?? 0 };
  }
}
