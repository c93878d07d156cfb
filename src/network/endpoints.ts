import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { NotFoundError, UserError } from '../util/errors.js';
import { formatIpv4, parseCidr } from './ipv4.js';
import { AddressBitmap } from './ipam.js';
import { allocateAddress } from './addressing.js';
import { DEFAULT_NETWORK_NAME, macForIpv4, validateAlias, vethName } from './names.js';
import { createNetnsWithEndpoints, deleteLinks, linkExists, mountedAmong, netnsPath, removeNetnsHandles, type Veth } from './links.js';
import { activeContainers } from './liveness.js';
import { findNetwork, getNetwork, readAllNetworks, withNetworkLock, writeNetwork, writeNetworkUnlessFull } from './store.js';
import { missingBridges, mtuOf, realizeNetworks } from './realize.js';
import { containerHosts, containerResolvConf, hostResolvConf } from './resolvconf.js';
import { parseExtraHost } from '../util/etc-hosts.js';
import { fromPortMapping, parsePublishFlag, type PortRequest } from './ports/mapping.js';
import { publishPorts, unpublishPorts } from './ports/client.js';
import { deleteAttachment, writeAttachment } from './attachments.js';
import { releaseEndpoint } from './release.js';
import { ensureDefaultNetworkLocked, reloadDaemon } from './networks.js';
import { startDaemonAhead } from './daemon/client.js';
import type { AttachOptions, AttachResult, AttachedAddress, EndpointRecord, EndpointRequest, NetworkRecord, PortMapping } from './types.js';

/**
 * A container's place on its networks: its namespace, one veth per network,
 * its addresses, its DNS records and its published ports. Attach records
 * first and builds second, so whatever a crash interrupts, `detachContainer`
 * (which derives every name it deletes) takes it all away again.
 */

export function validateContainer(containerId: string, containerName: string): void {
  if (!/^[0-9a-f]{64}$/.test(containerId)) throw new UserError(`invalid container id "${containerId}"`, 1, 'a container id is 64 lowercase hex characters');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(containerName)) {
    throw new UserError(`invalid container name "${containerName}"`, 1, 'a container name holds letters, digits, "_", "." and "-", and starts with a letter or digit');
  }
}

function prefixOf(n: NetworkRecord): number {
  return parseCidr(n.subnet)!.prefix;
}

export function vethOf(n: NetworkRecord, e: EndpointRecord, defaultRoute: boolean): Veth {
  const mtu = mtuOf(n);
  return {
    ifname: e.ifname,
    veth: e.veth,
    mac: e.mac,
    ipv4: e.ipv4,
    prefix: prefixOf(n),
    gateway: n.gateway,
    bridge: n.bridge,
    containerId: e.containerId,
    defaultRoute,
    ...(mtu ? { mtu } : {}),
  };
}

export function addressOf(n: NetworkRecord, e: EndpointRecord): AttachedAddress {
  return { network: n.name, networkId: n.id, ifname: e.ifname, ipv4: e.ipv4, prefixLength: prefixOf(n), gateway: n.gateway, mac: e.mac, aliases: e.aliases };
}

/** Allocates an address on `n` and returns the endpoint record (not yet written). */
export function planEndpoint(n: NetworkRecord, containerId: string, containerName: string, req: EndpointRequest, ifname: string): EndpointRecord {
  for (const a of req.aliases ?? []) validateAlias(a, containerName);
  const bitmap = AddressBitmap.load(parseCidr(n.subnet)!, n.ipam);
  const ip = allocateAddress(n, bitmap, req.ipv4Address, containerName);
  n.ipam = bitmap.toState();
  const ep: EndpointRecord = {
    containerId,
    containerName,
    endpointId: randomBytes(32).toString('hex'),
    aliases: [...new Set(req.aliases ?? [])],
    ipv4: formatIpv4(ip),
    mac: macForIpv4(ip),
    ifname,
    veth: vethName(containerId, n.id),
    running: false,
    ...(req.ipv4Address ? { staticIpv4: true } : {}),
  };
  n.endpoints[containerId] = ep;
  return ep;
}

/**
 * The container's own resolvers, which our server asks from the host's
 * namespace: a loopback address there is the host's, not the container's,
 * so it is refused rather than silently meaning something else.
 */
export function checkDnsServers(servers: readonly string[], container: string): string[] {
  for (const s of servers) {
    const ip = s.replace(/^\[(.*)\](:\d+)?$/, '$1').replace(/^([0-9.]+):\d+$/, '$1');
    if (isIP(ip) === 0) throw new UserError(`container ${container}: invalid DNS server "${s}"`, 1, 'give an IP address, e.g. --dns 9.9.9.9');
    if (ip.startsWith('127.') || ip === '::1') {
      throw new UserError(`container ${container}: DNS server ${s} is a loopback address`, 1, "on a bridge network the container's loopback is not the host's; give a resolver the host can reach, or leave --dns out to use the host's");
    }
  }
  return [...servers];
}

async function resolveNetworkLocked(ref: string): Promise<NetworkRecord> {
  const n = findNetwork(ref);
  if (n) return n;
  if (ref === DEFAULT_NETWORK_NAME) return ensureDefaultNetworkLocked();
  throw new NotFoundError('network', ref);
}

/**
 * Gives a container its network namespace and endpoints, publishes its ports
 * and registers its names (live once `setContainerRunning` says so). A port
 * that cannot be bound fails the attach before anything is created. Ports
 * are the engine's PortMapping or `-p` strings ("127.0.0.1:8080:80/tcp").
 * Re-attaching a container first clears what it had (a restart after a crash).
 */
export async function attachContainer(
  containerId: string,
  containerName: string,
  endpoints: readonly EndpointRequest[],
  ports: readonly (PortMapping | string)[] = [],
  options: AttachOptions = {},
): Promise<AttachResult> {
  validateContainer(containerId, containerName);
  const portRequests: PortRequest[] = ports.flatMap((p) => (typeof p === 'string' ? parsePublishFlag(p) : fromPortMapping(p)));
  const dnsServers = checkDnsServers(options.dnsServers ?? [], containerName);
  const requests = endpoints.length ? endpoints : [{ network: DEFAULT_NETWORK_NAME }];
  const daemonReady = startDaemonAhead();
  const result = await withNetworkLock(async () => {
    const ids: string[] = [];
    for (const r of requests) {
      const n = await resolveNetworkLocked(r.network);
      if (ids.includes(n.id)) throw new UserError(`container ${containerName}: network ${n.name} is given twice`, 1, 'list each network once');
      ids.push(n.id);
    }
    await detachLocked(containerId);
    const nets = ids.map((id) => getNetwork(id));
    const eps = nets.map((n, i) => planEndpoint(n, containerId, containerName, requests[i]!, `eth${i}`));
    if (dnsServers.length) for (const e of eps) e.dnsServers = dnsServers;
    const routeVia = nets.findIndex((n) => !n.internal);
    const extraHosts = (options.extraHosts ?? []).map((h) => parseExtraHost(h, nets[0]!.gateway));
    // The daemon binds the ports now: a taken port stops us here, with nothing made yet.
    const actualPorts = await publishPorts(containerId, containerName, eps[0]!.ipv4, portRequests);
    try {
      nets.forEach((n) => writeNetwork(n));
      const missing = missingBridges(nets);
      if (missing.length) await realizeNetworks(missing);
      const netnsPathResult = await createNetnsWithEndpoints(
        containerId,
        nets.map((n, i) => vethOf(n, eps[i]!, i === routeVia)),
      );
      writeAttachment({ containerId, containerName, endpoints: [...requests], ports: portRequests, options });
      const host = hostResolvConf();
      return {
        netnsPath: netnsPathResult,
        hosts: containerHosts({ ip: eps[0]!.ipv4, names: [options.hostname ?? containerId.slice(0, 12)] }, extraHosts),
        resolvConf: containerResolvConf(nets[0]!.gateway, options.dnsSearch ?? host.search, [...host.options, ...(options.dnsOptions ?? [])]),
        addresses: nets.map((n, i) => addressOf(n, eps[i]!)),
        ports: actualPorts,
      };
    } catch (err) {
      await detachLocked(containerId).catch(() => undefined);
      throw err;
    }
  });
  await daemonReady;
  await reloadDaemon();
  return result;
}

/**
 * Takes a container off every network: veths, namespace, addresses,
 * DNS records, port forwards. Idempotent, and complete after a crash: veth
 * names are derived from (container, network), so even an endpoint whose
 * record was never written is found.
 */
export async function detachContainer(containerId: string): Promise<void> {
  await detachContainers([containerId]);
}

/**
 * detachContainer for many containers: one taking of the lock, one write per record, one daemon
 * reload (a default network left empty is the daemon's to remove, see removeDefaultNetworkIfUnusedLocked).
 */
export async function detachContainers(containerIds: readonly string[]): Promise<void> {
  await withNetworkLock(() => detachAllLocked(containerIds));
  await reloadDaemon();
}

export async function detachLocked(containerId: string): Promise<void> {
  await detachAllLocked([containerId]);
}

/**
 * detachLocked for many containers at once: the records read once, the
 * processes of every namespace looked through once, one `ip` for the veths
 * that must go now and one `umount` for the handles, one write per record.
 */
export async function detachAllLocked(containerIds: readonly string[]): Promise<void> {
  if (containerIds.length === 0) return;
  const all = readAllNetworks();
  // A namespace nobody lives in dies with its handle and takes its veth pairs along: the kernel
  // dismantles it in the background, all devices in one batch, so we need not wait for each
  // deletion (tens of ms apiece). Veths of a namespace still in use, or left without one, go now.
  const handles = mountedAmong(containerIds.map(netnsPath));
  const inUse = handles.size ? activeContainers(containerIds.filter((id) => handles.has(netnsPath(id)))) : new Set<string>();
  const veths = containerIds
    .filter((id) => inUse.has(id) || !handles.has(netnsPath(id)))
    .flatMap((id) => all.map((n) => n.endpoints[id]?.veth ?? vethName(id, n.id)))
    .filter(linkExists);
  await Promise.all([deleteLinks(veths), removeNetnsHandles(containerIds)]);
  for (const n of all) {
    const released = containerIds.filter((id) => releaseEndpoint(n, id));
    if (released.length) writeNetworkUnlessFull(n);
  }
  for (const id of containerIds) {
    await unpublishPorts(id);
    deleteAttachment(id);
  }
}
