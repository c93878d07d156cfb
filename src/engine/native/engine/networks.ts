import { NotFoundError, UserError } from '../../../util/errors.js';
import type {
  IpamPool,
  LabelFilter,
  NetworkApi,
  NetworkAttachment,
  NetworkCreateRequest,
  NetworkDetails,
  NetworkSummary,
  DockerObject,
} from '../../types.js';
import { findNetwork, listNetworks } from '../../../network/store.js';
import type { EndpointRequest, NetworkRecord } from '../../../network/types.js';
import type { NetworkModule } from './deps.js';
import { journal } from './events.js';

/**
 * The Engine's NetworkApi on the native engine's networks (src/network),
 * every change journaled as an event. Containers are named by the runtime,
 * so it is given a resolver (name or id -> id and name). Listing reads the
 * records (network/store.ts); the rest of the network module (bridges,
 * firewall, the daemon's client) is loaded by the first call that changes
 * or inspects something.
 */

export type ContainerResolver = (ref: string) => Promise<{ id: string; name: string }>;

function summary(n: NetworkRecord): NetworkSummary {
  return {
    id: n.id,
    name: n.name,
    driver: n.driver,
    scope: 'local',
    internal: n.internal,
    labels: n.labels,
    ipam: [
      {
        subnet: n.subnet,
        gateway: n.gateway,
        ...(n.ipRange ? { ipRange: n.ipRange } : {}),
        ...(Object.keys(n.auxAddresses).length ? { auxAddresses: n.auxAddresses } : {}),
      },
    ],
    created: Date.parse(n.created),
  };
}

/** Compose's `networks.<n>.ipam` to our one IPv4 pool; refuses what we cannot honour rather than ignoring it. */
function pool(spec: NetworkCreateRequest): IpamPool {
  const ipam = spec.ipam;
  if (ipam?.driver && ipam.driver !== 'default') {
    throw new UserError(`network ${spec.name}: IPAM driver "${ipam.driver}" is not supported by the native engine`, 1, 'drop ipam.driver (the default one is used)');
  }
  const pools = (ipam?.config ?? []).filter((p) => !(p.subnet ?? '').includes(':'));
  if ((ipam?.config ?? []).length !== pools.length) {
    throw new UserError(`network ${spec.name}: IPv6 subnets are not supported by the native engine yet`, 1, 'drop the IPv6 entry of ipam.config, or use --backend docker');
  }
  if (pools.length > 1) throw new UserError(`network ${spec.name}: more than one IPv4 pool in ipam.config`, 1, 'give one subnet per network');
  return pools[0] ?? {};
}

export function endpointRequests(attachments: readonly NetworkAttachment[]): EndpointRequest[] {
  return attachments.map((a) => {
    if (a.ipv6Address) throw new UserError(`network ${a.network}: ipv6_address is not supported by the native engine yet`, 1, 'drop it, or use --backend docker');
    return { network: a.network, ...(a.aliases ? { aliases: a.aliases } : {}), ...(a.ipv4Address ? { ipv4Address: a.ipv4Address } : {}) };
  });
}

export class NativeNetworks implements NetworkApi {
  constructor(
    private readonly resolveContainer: ContainerResolver,
    private readonly network: () => Promise<NetworkModule>,
  ) {}

  async create(spec: NetworkCreateRequest): Promise<{ id: string }> {
    const p = pool(spec);
    const { createNetwork } = await this.network();
    const rec = await createNetwork({
      name: spec.name,
      ...(spec.driver ? { driver: spec.driver } : {}),
      internal: spec.internal ?? false,
      attachable: spec.attachable ?? false,
      enableIpv6: spec.enableIpv6 ?? false,
      labels: spec.labels,
      options: spec.driverOpts ?? {},
      ...(p.subnet ? { subnet: p.subnet } : {}),
      ...(p.gateway ? { gateway: p.gateway } : {}),
      ...(p.ipRange ? { ipRange: p.ipRange } : {}),
      ...(p.auxAddresses ? { auxAddresses: p.auxAddresses } : {}),
    });
    journal('network', 'create', rec.id, { name: spec.name, type: spec.driver ?? 'bridge', ...spec.labels });
    return { id: rec.id };
  }

  async remove(idOrName: string): Promise<void> {
    const n = findNetwork(idOrName);
    await (await this.network()).removeNetwork(idOrName);
    if (n) journal('network', 'destroy', n.id, { name: n.name, type: n.driver, ...n.labels });
  }

  async inspect(idOrName: string): Promise<NetworkDetails | undefined> {
    const { inspectNetwork } = await this.network();
    let n;
    try {
      n = inspectNetwork(idOrName);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    const rec = listNetworks({ names: [n.Name] })[0]!;
    const containers: NetworkDetails['containers'] = {};
    for (const [id, c] of Object.entries(n.Containers)) containers[id] = { name: c.Name, ipv4Address: c.IPv4Address };
    return { ...summary(rec), containers, options: n.Options, enableIpv6: false, attachable: n.Attachable };
  }

  async inspectRaw(idOrName: string): Promise<DockerObject | undefined> {
    const { inspectNetwork } = await this.network();
    try {
      return inspectNetwork(idOrName) as unknown as DockerObject;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async prune(filter: LabelFilter = {}): Promise<string[]> {
    const before = new Map(listNetworks().map((n) => [n.name, n]));
    const removed = await (await this.network()).pruneNetworks(filter.labels ? { labels: filter.labels } : {});
    for (const name of removed) {
      const n = before.get(name);
      if (n) journal('network', 'destroy', n.id, { name: n.name, type: n.driver, ...n.labels });
    }
    return removed;
  }

  async list(filter: LabelFilter & { names?: string[] } = {}): Promise<NetworkSummary[]> {
    return listNetworks({ ...(filter.labels ? { labels: filter.labels } : {}), ...(filter.names ? { names: filter.names } : {}) }).map(summary);
  }

  async connect(network: string, container: string, attachment: Omit<NetworkAttachment, 'network'> = {}): Promise<void> {
    const c = await this.resolveContainer(container);
    const [req] = endpointRequests([{ network, ...attachment }]);
    await (await this.network()).connectContainer(c.id, network, {
      containerName: c.name,
      ...(req!.aliases ? { aliases: req!.aliases } : {}),
      ...(req!.ipv4Address ? { ipv4Address: req!.ipv4Address } : {}),
    });
    journal('network', 'connect', network, { container });
  }

  async disconnect(network: string, container: string): Promise<void> {
    const c = await this.resolveContainer(container);
    await (await this.network()).disconnectContainer(c.id, network);
    journal('network', 'disconnect', network, { container });
  }
}
