import type Docker from 'dockerode';
import type { LabelFilter, VolumeApi, VolumeCreateRequest, VolumeSummary } from '../types.js';
import { call, callOrUndefined } from './errors.js';
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
    const v = (await call(KIND, spec.name, 'create', () =>
      this.docker.createVolume({ Name: spec.name, Driver: spec.driver ?? 'local', DriverOpts: spec.driverOpts ?? {}, Labels: spec.labels }),
    )) as unknown as DockerVolume | { name?: string };
    // dockerode resolves with a Volume handle, not the daemon's answer: read it back.
    if ('Mountpoint' in v) return summary(v as DockerVolume);
    const back = await this.inspect(spec.name);
    if (!back) throw new Error(`volume ${spec.name} vanished right after it was created`);
    return back;
  }

  async remove(name: string, force = false): Promise<void> {
    await call(KIND, name, 'remove', () => this.docker.getVolume(name).remove({ force }));
  }

  async inspect(name: string): Promise<VolumeSummary | undefined> {
    const v = (await callOrUndefined(KIND, name, 'inspect', () => this.docker.getVolume(name).inspect())) as DockerVolume | undefined;
    return v ? summary(v) : undefined;
  }

  async list(filter: LabelFilter = {}): Promise<VolumeSummary[]> {
    const r = (await call(KIND, 'list', 'list', () => this.docker.listVolumes({ filters: JSON.stringify(labelFilters(filter.labels)) }))) as {
      Volumes: DockerVolume[] | null;
    };
    return (r.Volumes ?? []).map(summary);
  }
}
