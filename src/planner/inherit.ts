import type { MountRequest, NamedContainerRequest } from '../engine/types.js';
import type { ObservedContainer, ObservedState } from './observed.js';

/**
 * A replacement container keeps the old one's anonymous volumes (those the
 * compose file declares without a source and those the image declares), as
 * Compose does unless `-V`: recreating a database container must not empty it.
 */
export function inheritAnonymousVolumes(spec: NamedContainerRequest, old: ObservedContainer, observed: ObservedState): NamedContainerRequest {
  const named = new Set([...Object.values(observed.volumes).map((v) => v.name), ...Object.keys(observed.volumesByName)]);
  const mounts: MountRequest[] = [...(spec.mounts ?? [])];
  let changed = false;
  for (const m of old.summary.mounts) {
    if (m.type !== 'volume' || !m.name || named.has(m.name)) continue;
    const i = mounts.findIndex((x) => x.target === m.target);
    if (i >= 0) {
      if (mounts[i]!.type === 'volume' && !mounts[i]!.source) {
        mounts[i] = { ...mounts[i]!, source: m.name };
        changed = true;
      }
      continue;
    }
    mounts.push({ type: 'volume', source: m.name, target: m.target, readOnly: m.readOnly });
    changed = true;
  }
  return changed ? { ...spec, mounts } : spec;
}
