import type { ContainerSummary, ImageSummary, VolumeSummary } from '../engine/types.js';
import { dockerEndpoint } from '../engine/native/engine/details.js';
import { dockerMountPoint } from '../engine/native/runtime/inspect.js';

/**
 * The Engine's summaries in the JSON shapes of Docker's list endpoints
 * (`/containers/json`, `/images/json`, `/networks`, `/volumes`), with the
 * field names and the empty values (null, "", []) dockerd 20.10 sends.
 */

export function portsJson(c: Pick<ContainerSummary, 'ports'>): Array<Record<string, unknown>> {
  return c.ports.map((p) => (p.hostPort !== undefined
    ? { IP: p.hostIp || '0.0.0.0', PrivatePort: p.target, PublicPort: p.hostPort, Type: p.protocol }
    : { PrivatePort: p.target, Type: p.protocol }));
}


/** The network mode Docker lists: the first network's name for a container on user networks, else default/host/none. */
function networkMode(c: ContainerSummary): string {
  const names = Object.keys(c.networks);
  if (names.length === 1 && (names[0] === 'host' || names[0] === 'none')) return names[0]!;
  if (names.length === 0 || names.includes('bridge')) return 'default';
  return names[0]!;
}

export function containerJson(c: ContainerSummary): Record<string, unknown> {
  const networks: Record<string, unknown> = {};
  for (const [name, n] of Object.entries(c.networks)) networks[name] = dockerEndpoint(n);
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.image,
    ImageID: c.imageId,
    Command: c.command,
    Created: Math.floor(c.created / 1000),
    Ports: portsJson(c),
    Labels: c.labels,
    State: c.state,
    Status: c.status,
    HostConfig: { NetworkMode: networkMode(c) },
    NetworkSettings: { Networks: networks },
    Mounts: c.mounts.map(dockerMountPoint),
  };
}

export function imageSummaryJson(i: ImageSummary): Record<string, unknown> {
  return {
    Containers: -1,
    Created: Math.floor(i.created / 1000),
    Id: i.id,
    Labels: Object.keys(i.labels).length ? i.labels : null,
    ParentId: '',
    RepoDigests: i.repoDigests.length ? i.repoDigests : i.repoTags.length ? [] : ['<none>@<none>'],
    RepoTags: i.repoTags.length ? i.repoTags : ['<none>:<none>'],
    SharedSize: -1,
    Size: i.size,
    VirtualSize: i.size,
  };
}

export function volumeJson(v: VolumeSummary): Record<string, unknown> {
  return {
    CreatedAt: v.created ? new Date(v.created).toISOString() : '',
    Driver: v.driver,
    Labels: Object.keys(v.labels).length ? v.labels : null,
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: Object.keys(v.options).length ? v.options : null,
    Scope: 'local',
  };
}
