import { writeJsonAtomic } from '../../util/atomic.js';
import { ConflictError, UserError } from '../../util/errors.js';
import type { ActualPort } from '../types.js';
import { describeRequest, type PortRequest } from './mapping.js';
import { listenTcp, listenUdp, type Forwarder } from './proxy.js';
import { describeHolders, findOwners, socketsOnPort } from './holder.js';
import { dropPortForwards, reconcilePortForwards, setPortForwards } from './forwards.js';
import type { NetworkRecord } from '../types.js';
import { deletePortRecord, portRecordPath, portsDir, readPortRecords, type PortRecord } from './records.js';
import { byCodeUnits } from '../../util/order.js';

// The records live in records.ts (what a listing reads without the sockets' code); their users import them from here too.
export { deletePortRecord, portRecordPath, portsDir, readPortRecords, type PortRecord };

interface Published {
  record: PortRecord;
  forwarders: Forwarder[];
}

export class PortPublisher {
  private readonly published = new Map<string, Published>();
  /** What the last complete reconcile saw (records and networks), to skip the next one when nothing changed. */
  private reconciled: string | undefined;
  /** One change at a time: a reload's reconcile must not see a publish half-way (its record written, its sockets not yet kept). */
  private queue: Promise<unknown> = Promise.resolve();

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  constructor(private readonly log: (msg: string) => void) {}

  /** The kernel's forwarding is the path that survives us; without it (an iptables failure) the proxy still serves. */
  private async kernel(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.log(`ports: ${what}: ${(err as Error).message}`);
    }
  }

  records(): PortRecord[] {
    return [...this.published.values()].map((p) => p.record);
  }

  /**
   * Binds every requested port, or none: on the first failure the ones bound
   * so far are closed and the error names the port and who holds it.
   */
  publish(containerId: string, containerName: string, targetIp: string, requests: readonly PortRequest[]): Promise<ActualPort[]> {
    return this.serial(() => this.publishNow(containerId, containerName, targetIp, requests));
  }

  unpublish(containerId: string): Promise<void> {
    return this.serial(() => this.unpublishNow(containerId));
  }

  retarget(containerId: string, targetIp: string): Promise<void> {
    return this.serial(() => this.retargetNow(containerId, targetIp));
  }

  /**
   * Makes the sockets match the records on disk: binds what a record asks for, closes what has none;
   * and the kernel's forwards likewise (`networks`: the records that tell each target's bridge).
   */
  reconcile(networks: readonly NetworkRecord[]): Promise<void> {
    return this.serial(() => this.reconcileNow(networks));
  }

  private async publishNow(containerId: string, containerName: string, targetIp: string, requests: readonly PortRequest[]): Promise<ActualPort[]> {
    await this.unpublishNow(containerId);
    const forwarders: Forwarder[] = [];
    const ports: ActualPort[] = [];
    try {
      for (const r of requests) {
        const f = await this.bindRequest(r, targetIp, containerName);
        forwarders.push(f);
        ports.push({ target: r.target, protocol: r.protocol, hostIp: r.hostIp, hostPort: f.port });
      }
    } catch (err) {
      await Promise.all(forwarders.map((f) => f.close()));
      throw err;
    }
    const record = { containerId, containerName, targetIp, ports };
    if (ports.length) {
      portsDir();
      writeJsonAtomic(portRecordPath(containerId), record);
      this.published.set(containerId, { record, forwarders });
      await this.kernel(`forwarding the ports of ${containerName} in the kernel`, () => setPortForwards([record]));
    }
    return ports;
  }

  private async unpublishNow(containerId: string): Promise<void> {
    const p = this.published.get(containerId);
    this.published.delete(containerId);
    if (p) await Promise.all(p.forwarders.map((f) => f.close()));
    deletePortRecord(containerId);
    await this.kernel(`dropping the kernel's forwards of ${containerId.slice(0, 12)}`, () => dropPortForwards([containerId]));
  }

  private async retargetNow(containerId: string, targetIp: string): Promise<void> {
    const p = this.published.get(containerId);
    if (!p) return;
    p.record = { ...p.record, targetIp };
    p.forwarders.forEach((f, i) => f.retarget({ ip: targetIp, port: p.record.ports[i]!.target }));
    writeJsonAtomic(portRecordPath(containerId), p.record);
    const record = p.record;
    await this.kernel(`forwarding the ports of ${record.containerName} in the kernel`, () => setPortForwards([record]));
  }

  private async reconcileNow(networks: readonly NetworkRecord[]): Promise<void> {
    const onDisk = new Map(readPortRecords().map((r) => [r.containerId, r]));
    for (const [cid, p] of [...this.published]) {
      if (!onDisk.has(cid)) {
        this.published.delete(cid);
        await Promise.all(p.forwarders.map((f) => f.close()));
      }
    }
    for (const [cid, record] of onDisk) {
      const have = this.published.get(cid);
      if (have) {
        if (have.record.targetIp !== record.targetIp) await this.retargetNow(cid, record.targetIp);
        continue;
      }
      const forwarders: Forwarder[] = [];
      for (const p of record.ports) {
        try {
          const req = { target: p.target, protocol: p.protocol as 'tcp' | 'udp', hostIp: p.hostIp, hostPortFirst: p.hostPort, hostPortLast: p.hostPort };
          forwarders.push(await this.bindRequest(req, record.targetIp, record.containerName));
        } catch (err) {
          // The record stays: the port is the container's, and a later reload binds it once it is free again.
          this.log(`ports: cannot restore ${p.hostPort}/${p.protocol} of ${record.containerName}: ${(err as Error).message}`);
        }
      }
      this.published.set(cid, { record, forwarders });
    }
    // The kernel's rules are read back (an iptables-save, tens of ms) only when the records or their targets'
    // networks changed since the last reconcile that went through: this daemon set and dropped the forwards of every
    // record it saw change, so a reload after stops or removals of containers without ports (a `down`'s)
    // has nothing to find there. A new daemon reconciles at its start.
    // What the kernel's part depends on: each record, and the bridge its target is on (route_localnet).
    const key = JSON.stringify(
      [...onDisk.values()]
        .sort((a, b) => byCodeUnits(a.containerId, b.containerId))
        .map((r) => [r, networks.find((n) => n.endpoints[r.containerId]?.ipv4 === r.targetIp)?.bridge]),
    );
    if (key === this.reconciled) return;
    this.reconciled = undefined;
    await this.kernel('reconciling the kernel\'s forwards', async () => {
      const dropped = await reconcilePortForwards([...onDisk.values()], networks);
      if (dropped.length) this.log(`ports: dropped the kernel's forwards of ${dropped.join(', ')} (no port record)`);
      this.reconciled = key;
    });
  }

  closeAll(): Promise<void> {
    return this.serial(() => this.closeAllNow());
  }

  private async closeAllNow(): Promise<void> {
    for (const p of this.published.values()) await Promise.all(p.forwarders.map((f) => f.close()));
    this.published.clear();
  }

  private async bindRequest(r: PortRequest, targetIp: string, containerName: string): Promise<Forwarder> {
    const target = { ip: targetIp, port: r.target };
    const listen = r.protocol === 'tcp' ? listenTcp : listenUdp;
    if (r.hostPortFirst === 0) return listen(r.hostIp, 0, target);
    let lastErr: unknown;
    for (let port = r.hostPortFirst; port <= r.hostPortLast; port++) {
      try {
        return await listen(r.hostIp, port, target);
      } catch (err) {
        lastErr = err;
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
      }
    }
    throw this.bindError(lastErr, r, containerName);
  }

  private bindError(err: unknown, r: PortRequest, containerName: string): Error {
    const code = (err as NodeJS.ErrnoException).code;
    const what = `cannot publish ${describeRequest(r)} for container ${containerName}`;
    if (code === 'EADDRNOTAVAIL') {
      return new UserError(`${what}: ${r.hostIp} is not an address of this host`, 1, 'give one of the host\'s addresses, or leave the host IP out');
    }
    if (code !== 'EADDRINUSE') return new Error(`${what}: ${(err as Error).message}`);
    const ports = r.hostPortFirst === r.hostPortLast ? `${r.hostPortFirst}` : `every port of ${r.hostPortFirst}-${r.hostPortLast}`;
    const ours = [...this.published.values()].find((p) =>
      p.record.ports.some((q) => q.protocol === r.protocol && q.hostPort >= r.hostPortFirst && q.hostPort <= r.hostPortLast),
    );
    const holder = ours
      ? `container ${ours.record.containerName} publishes it`
      : describeHolders(findOwners(socketsOnPort(r.protocol, r.hostPortFirst)));
    return new ConflictError(
      `${what}: host port ${ports}/${r.protocol} is already in use: ${holder}`,
      'publish another host port (e.g. -p 8081:80), leave the host port out to get a free one, or stop what holds it',
    );
  }
}
