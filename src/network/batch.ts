import { existsSync } from 'node:fs';
import { NotFoundError, UserError } from '../util/errors.js';
import { processStartTime } from '../util/lock.js';
import { DEFAULT_NETWORK_NAME } from './names.js';
import { createNamespaces } from './links.js';
import { bootId } from './liveness.js';
import { findNetwork, getNetwork, readAllNetworks, withNetworkLock, writeNetwork, writeNetworkUnlessFull } from './store.js';
import { addressOf, attachContainer, checkDnsServers, detachAllLocked, detachContainers, planEndpoint, validateContainer, vethOf } from './endpoints.js';
import { ensureDefaultNetworkLocked, reloadDaemon } from './networks.js';
import { startDaemonAhead } from './daemon/client.js';
import { missingBridges, realizeNetworks } from './realize.js';
import { containerHosts, containerResolvConf, hostResolvConf } from './resolvconf.js';
import { parseExtraHost } from '../util/etc-hosts.js';
import { fromPortMapping, parsePublishFlag, type PortRequest } from './ports/mapping.js';
import { publishPorts, unpublishPorts } from './ports/client.js';
import { portRecordPath } from './ports/records.js';
import { writeAttachments } from './attachments.js';
import { onOurNetworks, withNetworkRemnants } from './presence.js';
import type { AttachOptions, AttachResult, EndpointRequest, NetworkRecord, PortMapping } from './types.js';

/**
 * Many containers at once, for an orchestrator that starts a whole project:
 * the same steps as attachContainer and setContainerRunning, under one
 * taking of the lock, one write per network record, namespaces made by
 * processes running side by side, and one daemon reload. A batch fails as a
 * whole (and is undone as a whole): the caller may then attach one by one to
 * find which container's request is at fault.
 */

export interface AttachItem {
  containerId: string;
  containerName: string;
  endpoints: readonly EndpointRequest[];
  ports?: readonly (PortMapping | string)[];
  options?: AttachOptions;
}

export async function attachContainers(items: readonly AttachItem[]): Promise<AttachResult[]> {
  if (items.length === 1) {
    const it = items[0]!;
    return [await attachContainer(it.containerId, it.containerName, it.endpoints, it.ports ?? [], it.options ?? {})];
  }
  const prepared = items.map((it) => {
    validateContainer(it.containerId, it.containerName);
    const options = it.options ?? {};
    return {
      ...it,
      options,
      portRequests: (it.ports ?? []).flatMap((p): PortRequest[] => (typeof p === 'string' ? parsePublishFlag(p) : fromPortMapping(p))),
      dnsServers: checkDnsServers(options.dnsServers ?? [], it.containerName),
      requests: it.endpoints.length ? [...it.endpoints] : [{ network: DEFAULT_NETWORK_NAME }],
    };
  });
  const daemonReady = startDaemonAhead();
  const results = await withNetworkLock(async () => {
    const netIds: string[][] = [];
    for (const p of prepared) {
      const ids: string[] = [];
      for (const r of p.requests) {
        const n = findNetwork(r.network) ?? (r.network === DEFAULT_NETWORK_NAME ? await ensureDefaultNetworkLocked() : undefined);
        if (!n) throw new NotFoundError('network', r.network);
        if (ids.includes(n.id)) throw new UserError(`container ${p.containerName}: network ${n.name} is given twice`, 1, 'list each network once');
        ids.push(n.id);
      }
      netIds.push(ids);
    }
    await detachAllLocked(prepared.map((p) => p.containerId));
    const records = new Map<string, NetworkRecord>();
    for (const id of new Set(netIds.flat())) records.set(id, getNetwork(id));
    try {
      const planned = [];
      for (const [k, p] of prepared.entries()) {
        const nets = netIds[k]!.map((id) => records.get(id)!);
        const eps = nets.map((n, i) => planEndpoint(n, p.containerId, p.containerName, p.requests[i]!, `eth${i}`));
        if (p.dnsServers.length) for (const e of eps) e.dnsServers = p.dnsServers;
        // The daemon binds the ports now: a taken port stops the batch before any namespace is made.
        const ports = await publishPorts(p.containerId, p.containerName, eps[0]!.ipv4, p.portRequests);
        planned.push({ p, nets, eps, ports });
      }
      for (const n of records.values()) writeNetwork(n);
      const missing = missingBridges([...records.values()]);
      if (missing.length) await realizeNetworks(missing);
      const handles = await createNamespaces(planned.map(({ p, nets, eps }) => {
        const routeVia = nets.findIndex((n) => !n.internal);
        return { containerId: p.containerId, endpoints: nets.map((n, i) => vethOf(n, eps[i]!, i === routeVia)) };
      }));
      await writeAttachments(planned.map(({ p }) => ({ containerId: p.containerId, containerName: p.containerName, endpoints: p.requests, ports: p.portRequests, options: p.options })));
      const host = hostResolvConf();
      return planned.map(({ p, nets, eps, ports }, k): AttachResult => {
        const extraHosts = (p.options.extraHosts ?? []).map((h) => parseExtraHost(h, nets[0]!.gateway));
        return {
          netnsPath: handles[k]!,
          hosts: containerHosts({ ip: eps[0]!.ipv4, names: [p.options.hostname ?? p.containerId.slice(0, 12)] }, extraHosts),
          resolvConf: containerResolvConf(nets[0]!.gateway, p.options.dnsSearch ?? host.search, [...host.options, ...(p.options.dnsOptions ?? [])]),
          addresses: nets.map((n, i) => addressOf(n, eps[i]!)),
          ports,
        };
      });
    } catch (err) {
      await detachAllLocked(prepared.map((p) => p.containerId)).catch(() => undefined);
      throw err;
    }
  });
  await daemonReady;
  await reloadDaemon();
  return results;
}

/** setContainerRunning for many containers: their names go live (or off) together. */
export async function setContainersRunning(items: readonly { containerId: string; pid?: number }[], running: boolean): Promise<void> {
  if (items.length === 0) return;
  const byId = new Map(items.map((i) => [i.containerId, i]));
  const changed = await withNetworkLock(() => {
    let any = false;
    const boot = bootId();
    for (const n of readAllNetworks()) {
      let touched = false;
      for (const [id, it] of byId) {
        const ep = n.endpoints[id];
        if (!ep) continue;
        ep.running = running;
        delete ep.pid;
        delete ep.pidStart;
        if (running) {
          ep.bootId = boot;
          if (it.pid !== undefined) {
            ep.pid = it.pid;
            const start = processStartTime(it.pid);
            if (start !== undefined) ep.pidStart = start;
          }
        }
        touched = true;
      }
      if (touched) {
        // A stop on a full disk may leave the record saying running: the endpoint's pid, now dead,
        // tells the DNS server the name is gone. Starting needs the write. For the same reason a
        // stop's write need not be durable (no fsync): a crash that brings "running" back brings
        // back a dead pid with it.
        if (running) writeNetwork(n);
        else writeNetworkUnlessFull(n, { durable: false });
        any = true;
      }
    }
    return any;
  });
  if (changed) await reloadDaemon();
}

/**
 * Marks a container's records live (DNS answers for it) or not. The runtime
 * calls it on start (with the init's pid, so a container that dies on its
 * own stops resolving even before anyone says so) and on stop.
 */
export function setContainerRunning(containerId: string, running: boolean, info: { pid?: number } = {}): Promise<void> {
  return setContainersRunning([{ containerId, ...(info.pid !== undefined ? { pid: info.pid } : {}) }], running);
}

/**
 * After stops: the containers' names stop resolving and their host ports are
 * free again (as Docker releases them), for all of them under one taking of
 * the lock for the names and one for the ports.
 */
export async function releaseOnStops(containerIds: readonly string[]): Promise<void> {
  const attached = onOurNetworks(containerIds);
  if (attached.length === 0) return;
  await setContainersRunning(attached.map((containerId) => ({ containerId })), false);
  const withPorts = attached.filter((id) => existsSync(portRecordPath(id)));
  if (withPorts.length) await withNetworkLock(async () => { for (const id of withPorts) await unpublishPorts(id); });
}

/** After removals: the containers that had a network of ours are detached together (see detachContainers). */
export async function detachRemoved(containerIds: readonly string[]): Promise<void> {
  const attached = withNetworkRemnants(containerIds);
  if (attached.length) await detachContainers(attached);
}
