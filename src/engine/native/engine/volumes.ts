import { NotFoundError } from '../../../util/errors.js';
import type { DockerObject, LabelFilter, VolumeApi, VolumeCreateRequest, VolumeSummary } from '../../types.js';
import type { Volume } from '../runtime/index.js';
import { VolumeStore } from '../runtime/volumes.js';
import type { EngineDeps } from './deps.js';
import { journal } from './events.js';

/** The Engine's volumes: the runtime's VolumeStore (local driver; named volumes are filled from the image on first use). */
export class NativeVolumes implements VolumeApi {
  /**
   * For reads: a VolumeStore keeps nothing in memory (its records are on disk), so this one reads
   * what the runtime's does, without loading the runtime. Changes go through the runtime's.
   */
  private readonly reads = new VolumeStore();

  constructor(private readonly deps: EngineDeps) {}

  private async store() {
    return (await this.deps.runtime()).volumes;
  }

  async create(spec: VolumeCreateRequest): Promise<VolumeSummary> {
    const volumes = await this.store();
    const existed = spec.name !== undefined && volumes.read(spec.name) !== undefined;
    const v = await volumes.create({ ...(spec.name !== undefined ? { name: spec.name } : {}), ...(spec.driver ? { driver: spec.driver } : {}), driverOpts: spec.driverOpts ?? {}, labels: spec.labels });
    if (!existed) journal('volume', 'create', v.Name, { driver: v.Driver, ...v.Labels });
    return summary(v);
  }

  async remove(name: string, force?: boolean): Promise<void> {
    const volumes = await this.store();
    const v = volumes.read(name);
    if (!v && !force) throw new NotFoundError('volume', name);
    await volumes.remove(name, { force: force ?? false });
    if (v) journal('volume', 'destroy', name, { driver: v.Driver, ...v.Labels });
  }

  async inspect(name: string): Promise<VolumeSummary | undefined> {
    const v = this.reads.read(name);
    return v && summary(v);
  }

  async inspectRaw(name: string): Promise<DockerObject | undefined> {
    return this.reads.read(name) as DockerObject | undefined;
  }

  async list(filter: LabelFilter & { dangling?: boolean } = {}): Promise<VolumeSummary[]> {
    return this.reads.list({ ...(filter.labels ? { labels: filter.labels } : {}), ...(filter.dangling !== undefined ? { dangling: filter.dangling } : {}) }).map(summary);
  }

  async prune(options: LabelFilter & { all?: boolean } = {}): Promise<{ removed: string[]; reclaimedBytes: number }> {
    const volumes = await this.store();
    const before = new Map(volumes.list({}).map((v) => [v.Name, v]));
    const r = await volumes.prune({ all: options.all ?? false, ...(options.labels ? { labels: options.labels } : {}) });
    for (const name of r.removed) journal('volume', 'destroy', name, { driver: before.get(name)?.Driver ?? 'local', ...(before.get(name)?.Labels ?? {}) });
    return { removed: r.removed, reclaimedBytes: r.bytes };
  }
}

function summary(v: Volume): VolumeSummary {
  return { name: v.Name, driver: v.Driver, labels: v.Labels, mountpoint: v.Mountpoint, created: Date.parse(v.CreatedAt) || undefined, options: v.Options };
}
