import { ConflictError, UserError } from '../util/errors.js';
import { hostRoutes } from './hostroutes.js';
import { planAddressing } from './addressing.js';
import { DEFAULT_NETWORK_NAME, bridgeName, newId, validateNetworkName } from './names.js';
import { deleteLinks, ensureBridge } from './links.js';
import { applyFirewall, withHostLock } from './firewall.js';
import { bridgeOf, firewallView, unrealizeNetworks } from './realize.js';
import { deleteNetworkRecord, getNetwork, listNetworks, readAllNetworks, withNetworkLock, writeNetwork, type NetworkFilter } from './store.js';
import { activeContainers } from './liveness.js';
import { callDaemon } from './daemon/client.js';
import { dropEndpointsLocked } from './release.js';
import { collectGarbageLocked } from './garbage.js';
import type { CreateNetworkOptions, NetworkInspect, NetworkRecord } from './types.js';

// Listing is the records' (store.ts: what a listing loads); its users have always found it here too.
export { listNetworks, type NetworkFilter };

/**
 * Networks: create, remove, list, inspect, prune. Each change takes the
 * state root's lock, writes the record before touching the kernel (so a
 * crash leaves something `rm` can find), and ends by telling the daemon to
 * reload (it serves DNS on the new gateway, or exits with the last network).
 */

const SUPPORTED_OPTIONS = new Set(['com.docker.network.bridge.enable_ip_masquerade', 'com.docker.network.driver.mtu']);

function validateCreate(opts: CreateNetworkOptions): void {
  validateNetworkName(opts.name);
  if (opts.driver !== undefined && opts.driver !== 'bridge') {
    throw new UserError(`network ${opts.name}: driver "${opts.driver}" is not supported by the native engine`, 1, 'use the bridge driver (the default), or --backend docker');
  }
  if (opts.enableIpv6) {
    throw new UserError(`network ${opts.name}: IPv6 networks are not supported by the native engine yet`, 1, 'drop enable_ipv6 (--ipv6), or use --backend docker');
  }
  for (const [key, value] of Object.entries(opts.options ?? {})) {
    if (!SUPPORTED_OPTIONS.has(key)) {
      throw new UserError(`network ${opts.name}: driver option ${key} is not supported by the native engine`, 1, `supported options: ${[...SUPPORTED_OPTIONS].join(', ')}`);
    }
    if (key.endsWith('.mtu') && !(/^\d+$/.test(value) && Number(value) >= 68 && Number(value) <= 65535)) {
      throw new UserError(`network ${opts.name}: invalid MTU "${value}"`, 1, 'give a number from 68 to 65535');
    }
  }
  for (const [k, v] of Object.entries(opts.labels ?? {})) {
    if (typeof v !== 'string') throw new UserError(`network ${opts.name}: label ${k} must be a string`);
  }
}

/** Whether a network needs the daemon: all but an empty default network, which only waits to be removed. */
export function needsDaemon(n: NetworkRecord): boolean {
  return !(n.isDefault && Object.keys(n.endpoints).length === 0);
}

/**
 * Tells the daemon state changed; starts it when a network needs it and it is not running. An empty
 * default network is the daemon's to remove as it leaves (removeDefaultNetworkIfUnusedLocked); when
 * no daemon is running to do that, it is removed here.
 */
export async function reloadDaemon(): Promise<void> {
  const networks = readAllNetworks();
  const served = networks.some(needsDaemon);
  const answer = await callDaemon({ op: 'reload' }, { start: served });
  if (answer === undefined && !served && networks.length > 0) {
    await withNetworkLock(removeDefaultNetworkIfUnusedLocked);
  }
}

async function createLocked(opts: CreateNetworkOptions, isDefault: boolean): Promise<NetworkRecord> {
  const all = readAllNetworks();
  const same = all.find((n) => n.name === opts.name);
  if (same) throw new ConflictError(`network with name ${opts.name} already exists`, `remove it first (tscompose network rm ${opts.name}), or pick another name`);
  return withHostLock(async () => {
    const id = newId();
    const addressing = planAddressing(opts, all, hostRoutes());
    const rec: NetworkRecord = {
      id,
      name: opts.name,
      driver: 'bridge',
      created: new Date().toISOString(),
      internal: opts.internal ?? false,
      attachable: opts.attachable ?? false,
      labels: { ...(opts.labels ?? {}) },
      options: { ...(opts.options ?? {}) },
      bridge: bridgeName(id),
      ...addressing,
      dnsNames: !isDefault,
      isDefault,
      endpoints: {},
    };
    writeNetwork(rec);
    try {
      await ensureBridge(bridgeOf(rec));
      await applyFirewall([firewallView(rec)], []);
    } catch (err) {
      await unrealizeNetworksUnlocked(rec);
      deleteNetworkRecord(id);
      throw err;
    }
    return rec;
  });
}

/** Rolls a half-made network back while the host lock is already held. */
async function unrealizeNetworksUnlocked(rec: NetworkRecord): Promise<void> {
  await deleteLinks([rec.bridge]).catch(() => undefined);
  await applyFirewall([], [rec.id]).catch(() => undefined);
}

export async function createNetwork(opts: CreateNetworkOptions): Promise<NetworkRecord> {
  if (opts.name === DEFAULT_NETWORK_NAME) {
    throw new UserError(`"${DEFAULT_NETWORK_NAME}" is the default network's name`, 1, 'pick another name; the default network is made on demand');
  }
  validateCreate(opts);
  const rec = await withNetworkLock(() => createLocked(opts, false));
  await reloadDaemon();
  return rec;
}

/** Docker's default `bridge` network (no names in its DNS), made the first time a container asks for it. Call under the network lock. */
export async function ensureDefaultNetworkLocked(): Promise<NetworkRecord> {
  const existing = readAllNetworks().find((n) => n.name === DEFAULT_NETWORK_NAME);
  if (existing) return existing;
  return createLocked({ name: DEFAULT_NETWORK_NAME, options: {} }, true);
}

/**
 * The default network exists while containers use it: made by the first
 * container that asks for it, removed after the last one leaves, so a host
 * that ran a container once keeps no bridge, rule or daemon for it (unlike
 * Docker's permanent docker0). The daemon removes it on its way out (the
 * network service's windDown), not the command that removed the last
 * container: deleting a bridge and its rules takes 0.1-0.2 s that a
 * `container run --rm` need not wait for, and a command that comes in
 * meanwhile finds the network still there.
 */
export async function removeDefaultNetworkIfUnusedLocked(): Promise<void> {
  const def = readAllNetworks().find((n) => n.isDefault);
  if (def && Object.keys(def.endpoints).length === 0) await removeLocked(def, false);
}

/** The networks' rules, bridge and veths of endpoints that are not active; refuses when a running container is attached. */
async function removeLocked(rec: NetworkRecord, force: boolean): Promise<void> {
  const active = activeContainers(Object.keys(rec.endpoints));
  if (active.size && !force) {
    const names = [...active].map((cid) => rec.endpoints[cid]!.containerName).sort();
    throw new ConflictError(
      `network ${rec.name} has active endpoints: ${names.join(', ')}`,
      `stop or disconnect ${names.length > 1 ? 'these containers' : 'this container'} first (tscompose network disconnect ${rec.name} ${names[0]})`,
    );
  }
  await dropEndpointsLocked(rec, Object.keys(rec.endpoints));
  await unrealizeNetworks([rec]);
  deleteNetworkRecord(rec.id);
}

export async function removeNetwork(ref: string): Promise<void> {
  await withNetworkLock(async () => removeLocked(getNetwork(ref), false));
  await reloadDaemon();
}

export function inspectNetwork(ref: string): NetworkInspect {
  const n = getNetwork(ref);
  const prefix = n.subnet.split('/')[1];
  const options: Record<string, string> = { ...n.options, 'com.docker.network.bridge.name': n.bridge };
  if (n.isDefault) options['com.docker.network.bridge.default_bridge'] = 'true';
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: 'bridge',
    EnableIPv6: false,
    IPAM: {
      Driver: 'default',
      Options: {},
      Config: [
        {
          Subnet: n.subnet,
          Gateway: n.gateway,
          ...(n.ipRange ? { IPRange: n.ipRange } : {}),
          ...(Object.keys(n.auxAddresses).length ? { AuxiliaryAddresses: n.auxAddresses } : {}),
        },
      ],
    },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: Object.fromEntries(
      Object.values(n.endpoints).map((e) => [
        e.containerId,
        { Name: e.containerName, EndpointID: e.endpointId, MacAddress: e.mac, IPv4Address: `${e.ipv4}/${prefix}`, IPv6Address: '' },
      ]),
    ),
    Options: options,
    Labels: n.labels,
  };
}

/**
 * Removes every network (matching the filter) that no running container
 * uses, then what a crash may have left of this state root anywhere: links,
 * rules, namespace handles and port forwards that no record owns.
 */
export async function pruneNetworks(filter: NetworkFilter = {}): Promise<string[]> {
  const removed = await withNetworkLock(async () => {
    const out: string[] = [];
    for (const n of listNetworks(filter)) {
      if (activeContainers(Object.keys(n.endpoints)).size) continue;
      await removeLocked(n, false);
      out.push(n.name);
    }
    await collectGarbageLocked();
    return out;
  });
  await reloadDaemon();
  return removed;
}
