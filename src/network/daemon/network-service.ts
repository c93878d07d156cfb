import { existsSync } from 'node:fs';
import { processStartTime } from '../../util/lock.js';
import { statePath } from '../../util/paths.js';
import { UserError } from '../../util/errors.js';
import { readAllNetworks, withNetworkLockIfFree } from '../store.js';
import { needsDaemon, removeDefaultNetworkIfUnusedLocked } from '../networks.js';
import { DnsTable, type DnsEndpoint, type DnsNetwork } from '../dns/table.js';
import { DnsServer } from '../dns/server.js';
import { answerQuery } from '../dns/answer.js';
import { forward, parseUpstreams, upstreams } from '../dns/forwarder.js';
import { PortPublisher, readPortRecords } from '../ports/publisher.js';
import type { PortRequest } from '../ports/mapping.js';
import { missingBridges, realizeNetworks } from '../realize.js';
import type { NetworkRecord } from '../types.js';
import type { DaemonService } from './service.js';
import { bootId } from '../liveness.js';

/**
 * Networking inside the daemon: the embedded DNS server (its names rebuilt
 * from the network records on every reload) and the published ports (the
 * proxies bound, and the kernel's forwards set, from the port records). Both
 * come back from state on start, so a killed daemon's successor serves the
 * same names and ports; the kernel's forwards never stopped.
 */

/** Running, in this boot, and (when we know its init) with that process still alive. */
export function makeLivenessCheck(): (e: DnsEndpoint) => boolean {
  const boot = bootId();
  const cache = new Map<string, { at: number; alive: boolean }>();
  return (e) => {
    if (!e.running) return false;
    if (e.bootId && e.bootId !== boot) return false;
    if (e.pid === undefined) return true;
    const key = `${e.pid}:${e.pidStart ?? ''}`;
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && now - hit.at < 1000) return hit.alive;
    const start = processStartTime(e.pid);
    const alive = start !== undefined && (e.pidStart === undefined || start === e.pidStart);
    cache.set(key, { at: now, alive });
    return alive;
  };
}

export function dnsView(networks: readonly NetworkRecord[]): DnsNetwork[] {
  return networks.map((n) => ({ id: n.id, name: n.name, dnsNames: n.dnsNames, endpoints: Object.values(n.endpoints) }));
}

export function networkService(log: (msg: string) => void): DaemonService {
  let networks: NetworkRecord[] = [];
  let table = new DnsTable([]);
  let gateways = new Set<string>();
  const isLive = makeLivenessCheck();
  const dns = new DnsServer(
    (query, source, transport) => {
      const own = table.upstreamsFor(source);
      const servers = own ? parseUpstreams(own.join(',')) : upstreams(gateways);
      return answerQuery(query, source, transport, table, (q, t) => forward(q, t, servers));
    },
    log,
  );
  const ports = new PortPublisher(log);
  let dnsFailures = new Map<string, string>();

  async function reload(): Promise<void> {
    networks = readAllNetworks();
    table = new DnsTable(dnsView(networks), isLive);
    gateways = new Set(networks.map((n) => n.gateway));
    dnsFailures = await dns.setAddresses([...gateways]);
    const reconciled = ports.reconcile(networks);
    // With no port record, all a reconcile can do is drop forwards a dead daemon's records left in the
    // kernel (read back with an iptables-save, once per daemon): the answer need not wait for that. Port
    // work that follows (a publish) queues behind it, so no forward can be set before the old is dropped.
    if (readPortRecords().length > 0) await reconciled;
    else reconciled.catch((err: Error) => log(`ports: reconcile failed: ${err.message}`));
  }

  return {
    name: 'network',
    async start() {
      networks = readAllNetworks();
      // After a reboot (or a crash half-way through a create) the records are here and the bridges are not.
      const missing = missingBridges(networks);
      if (missing.length) {
        log(`network: recreating bridges of ${missing.map((n) => n.name).join(', ')}`);
        await realizeNetworks(missing);
      }
      await reload();
    },
    reload,
    ops: {
      async publish(req) {
        const containerId = String(req.containerId);
        const targetIp = String(req.targetIp);
        if (!/^[0-9a-f]{64}$/.test(containerId)) throw new UserError(`invalid container id "${containerId}"`);
        return ports.publish(containerId, String(req.containerName), targetIp, req.requests as PortRequest[]);
      },
      async unpublish(req) {
        await ports.unpublish(String(req.containerId));
        return { unpublished: true };
      },
      async retarget(req) {
        await ports.retarget(String(req.containerId), String(req.targetIp));
        return { retargeted: true };
      },
      async ports() {
        return ports.records();
      },
    },
    keepsAlive: () => networks.some(needsDaemon) || readPortRecords().length > 0,
    async windDown() {
      // No records left to change (none, or the state root deleted under us: taking the lock would make it again).
      if (networks.length === 0 || !existsSync(statePath('networks'))) return true;
      const done = await withNetworkLockIfFree(async () => {
        await removeDefaultNetworkIfUnusedLocked();
        await reload();
      });
      return done !== undefined && !networks.some(needsDaemon);
    },
    status: () => ({
      networks: networks.map((n) => n.name),
      dns: dns.addresses(),
      dnsFailures: Object.fromEntries(dnsFailures),
      ports: ports.records(),
    }),
    async stop() {
      await dns.closeAll();
      await ports.closeAll();
    },
  };
}
