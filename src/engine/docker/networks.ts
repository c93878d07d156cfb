import type Docker from 'dockerode';
import type { DockerObject, IpamPool, LabelFilter, NetworkApi, NetworkAttachment, NetworkCreateRequest, NetworkDetails, NetworkSummary } from '../types.js';
import { call, callOrUndefined } from './errors.js';
import { EngineError, NotConnectedError } from '../types.js';
import { labelFilters } from './filters.js';
import { endpointConfig } from './create-body.js';

const KIND = 'network';

interface DockerNetwork {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Internal: boolean;
  Attachable: boolean;
  EnableIPv6: boolean;
  Labels: Record<string, string> | null;
  Created: string;
  IPAM?: { Config?: { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }[] | null };
  Options?: Record<string, string> | null;
  Containers?: Record<string, { Name: string; IPv4Address?: string; IPv6Address?: string }> | null;
}

function summary(n: DockerNetwork): NetworkSummary {
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver,
    scope: n.Scope,
    internal: n.Internal,
    labels: n.Labels ?? {},
    ipam: (n.IPAM?.Config ?? []).map(
      (c): IpamPool => ({ subnet: c.Subnet, ipRange: c.IPRange, gateway: c.Gateway, auxAddresses: c.AuxiliaryAddresses }),
    ),
    created: Date.parse(n.Created) || 0,
  };
}

export class DockerNetworks implements NetworkApi {
  constructor(private readonly docker: Docker) {}

  async create(spec: NetworkCreateRequest): Promise<{ id: string }> {
    const ipam = spec.ipam
      ? {
          Driver: spec.ipam.driver ?? 'default',
          Config: (spec.ipam.config ?? []).map((p) => ({ Subnet: p.subnet, IPRange: p.ipRange, Gateway: p.gateway, AuxiliaryAddresses: p.auxAddresses })),
          Options: spec.ipam.options,
        }
      : undefined;
    const n = await call(KIND, spec.name, 'create', () =>
      this.docker.createNetwork({
        Name: spec.name,
        Driver: spec.driver ?? 'bridge',
        Options: spec.driverOpts ?? {},
        Labels: spec.labels,
        Internal: spec.internal ?? false,
        Attachable: spec.attachable ?? false,
        EnableIPv6: spec.enableIpv6 ?? false,
        CheckDuplicate: true,
        ...(ipam ? { IPAM: ipam } : {}),
      } as Docker.NetworkCreateOptions),
    );
    return { id: n.id };
  }

  async remove(idOrName: string): Promise<void> {
    await call(KIND, idOrName, 'remove', () => this.docker.getNetwork(idOrName).remove());
  }

  async inspect(idOrName: string): Promise<NetworkDetails | undefined> {
    const n = (await callOrUndefined(KIND, idOrName, 'inspect', () => this.docker.getNetwork(idOrName).inspect())) as DockerNetwork | undefined;
    if (!n) return undefined;
    const containers: NetworkDetails['containers'] = {};
    for (const [id, c] of Object.entries(n.Containers ?? {})) {
      containers[id] = { name: c.Name, ipv4Address: c.IPv4Address || undefined, ipv6Address: c.IPv6Address || undefined };
    }
    return { ...summary(n), containers, options: n.Options ?? {}, enableIpv6: n.EnableIPv6, attachable: n.Attachable };
  }

  async inspectRaw(idOrName: string): Promise<DockerObject | undefined> {
    return (await callOrUndefined(KIND, idOrName, 'inspect', () => this.docker.getNetwork(idOrName).inspect())) as DockerObject | undefined;
  }

  async prune(filter: LabelFilter = {}): Promise<string[]> {
    const r = await call(KIND, 'unused', 'prune', () => this.docker.pruneNetworks({ filters: JSON.stringify(labelFilters(filter.labels)) }));
    return r.NetworksDeleted ?? [];
  }

  async list(filter: LabelFilter & { names?: string[] } = {}): Promise<NetworkSummary[]> {
    const filters = labelFilters(filter.labels);
    if (filter.names?.length) filters.name = filter.names;
    const rows = (await call(KIND, 'list', 'list', () => this.docker.listNetworks({ filters: JSON.stringify(filters) }))) as unknown as DockerNetwork[];
    // Docker's name filter matches substrings; keep exact names only.
    return rows.filter((n) => !filter.names?.length || filter.names.includes(n.Name)).map(summary);
  }

  async connect(network: string, container: string, attachment: Omit<NetworkAttachment, 'network'> = {}): Promise<void> {
    await call(KIND, network, `connect ${container} to`, () =>
      this.docker.getNetwork(network).connect({ Container: container, EndpointConfig: endpointConfig(attachment) }),
    );
  }

  async disconnect(network: string, container: string, force = false): Promise<void> {
    try {
      await call(KIND, network, `disconnect ${container} from`, () => this.docker.getNetwork(network).disconnect({ Container: container, Force: force }));
    } catch (err) {
      // dockerd says so with a 403 for a running container, a 500 for one that is not.
      if (err instanceof EngineError && /is not connected/.test(err.message)) throw new NotConnectedError(container, network);
      throw err;
    }
  }

}
