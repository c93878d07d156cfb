import type { ImageRecord, ImageStore } from './store.js';

/** `docker image inspect`'s shape (API 1.41), filled from the store. */
export function inspectImage(store: ImageStore, img: ImageRecord): Record<string, unknown> {
  const diffs = img.chainIds.map((c) => store.paths.layerDiff(c)).reverse();
  const stored = store.storedImage(img.id);
  const c = img.config;
  return {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Parent: '',
    Comment: typeof c.comment === 'string' ? c.comment : '',
    Created: img.created,
    Container: typeof c.container === 'string' ? c.container : '',
    ContainerConfig: c.container_config ?? null,
    DockerVersion: typeof c.docker_version === 'string' ? c.docker_version : '',
    Author: c.author ?? '',
    Config: c.config ?? null,
    Architecture: c.architecture,
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os,
    Size: img.size,
    VirtualSize: img.size,
    GraphDriver: {
      Data: diffs.length ? { UpperDir: diffs[0], ...(diffs.length > 1 ? { LowerDir: diffs.slice(1).join(':') } : {}) } : {},
      Name: 'overlay',
    },
    RootFS: { Type: c.rootfs.type, Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: stored?.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
}
