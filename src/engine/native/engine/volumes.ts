import { NotFoundError } from '../../../util/errors.js';
import type { LabelFilter, VolumeApi, VolumeCreateRequest, VolumeSummary } from '../../types.js';
import type { Volume } from '../runtime/index.js';
import type { EngineDeps } from './deps.js';
import { journal } from './events.js';

/** The Engine's volumes: the runtime's VolumeStore (local driver; named volumes are filled from the image on first use). */
export class NativeVolumes implements VolumeApi {
  constructor(private readonly deps: EngineDeps) {}

  private async store() {
    return (await this.deps.runtime()).volumes;
  }

  async create(spec: VolumeCreateRequest): Promise<VolumeSummary> {
    const volumes = await this.store();
    const existed = volumes.read(spec.name) !== undefined;
    const v = await volumes.create({ name: spec.name, ...(spec.driver ? { driver: spec.driver } : {}), driverOpts: spec.driverOpts ?? {}, labels: spec.labels });
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
    const v = (await this.store()).read(name);
    return v && summary(v);
  }

  async list(filter: LabelFilter = {}): Promise<VolumeSummary[]> {
    return (await this.store()).list(filter.labels ? { labels: filter.labels } : {}).map(summary);
  }
}

function summary(v: Volume): VolumeSummary {
  return { name: v.Name, driver: v.Driver, labels: v.Labels, mountpoint: v.Mountpoint, created: Date.parse(v.CreatedAt) || undefined, options: v.Options };
}
