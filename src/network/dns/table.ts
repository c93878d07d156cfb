/**
 * The names the embedded DNS server answers, scoped the way Docker scopes
 * them: a container sees the names of the networks it is attached to, and
 * only those, and the asker is known by its source address. Names are a
 * container's name, its short id and its aliases (Compose makes the service
 * name an alias of every replica, which is how a service name returns every
 * replica), and any of those followed by ".<network name>".
 */

export interface DnsEndpoint {
  containerId: string;
  containerName: string;
  aliases: readonly string[];
  ipv4: string;
  running: boolean;
  pid?: number;
  pidStart?: string;
  bootId?: string;
  dnsServers?: readonly string[];
}

export interface DnsNetwork {
  id: string;
  name: string;
  /** False on the default bridge: it forwards, but resolves no container names. */
  dnsNames: boolean;
  endpoints: readonly DnsEndpoint[];
}

export type LivenessCheck = (e: DnsEndpoint) => boolean;

interface Entry {
  ip: string;
  endpoint: DnsEndpoint;
}

export class DnsTable {
  /** Container id by any of its addresses. */
  private readonly containerByIp = new Map<string, string>();
  /** Network ids per container. */
  private readonly networksOf = new Map<string, string[]>();
  /** Per network id: lower-cased name -> entries. */
  private readonly names = new Map<string, Map<string, Entry[]>>();
  /** Per network id: address -> the container's name there (for PTR). */
  private readonly reverseNames = new Map<string, Map<string, Entry>>();
  private readonly networkIdByName = new Map<string, string>();
  private readonly dnsServersOf = new Map<string, readonly string[]>();

  constructor(
    networks: readonly DnsNetwork[],
    private readonly isLive: LivenessCheck = (e) => e.running,
  ) {
    for (const n of networks) {
      this.networkIdByName.set(n.name.toLowerCase(), n.id);
      const names = new Map<string, Entry[]>();
      const reverse = new Map<string, Entry>();
      for (const e of n.endpoints) {
        this.containerByIp.set(e.ipv4, e.containerId);
        if (e.dnsServers?.length) this.dnsServersOf.set(e.containerId, e.dnsServers);
        const nets = this.networksOf.get(e.containerId) ?? [];
        nets.push(n.id);
        this.networksOf.set(e.containerId, nets);
        if (!n.dnsNames) continue;
        const entry = { ip: e.ipv4, endpoint: e };
        for (const name of new Set([e.containerName, e.containerId.slice(0, 12), ...e.aliases].map((x) => x.toLowerCase()))) {
          const list = names.get(name) ?? [];
          list.push(entry);
          names.set(name, list);
        }
        reverse.set(e.ipv4, entry);
      }
      this.names.set(n.id, names);
      this.reverseNames.set(n.id, reverse);
    }
  }

  /** The container's own upstream resolvers, when it has some (`--dns`). */
  upstreamsFor(sourceIp: string): readonly string[] | undefined {
    return this.dnsServersOf.get(this.containerByIp.get(sourceIp) ?? '');
  }

  /** Whether the address belongs to one of our containers (its queries are scoped). */
  knows(sourceIp: string): boolean {
    return this.containerByIp.has(sourceIp);
  }

  /**
   * The addresses `qname` has for the container at `sourceIp`, in a fresh
   * random order (round-robin between replicas for clients that take the
   * first); undefined when the name is not one of ours for this asker.
   */
  lookup(sourceIp: string, qname: string): string[] | undefined {
    const nets = this.askerNetworks(sourceIp);
    if (nets.length === 0) return undefined;
    const name = normalize(qname);
    const found = new Set<string>();
    for (const netId of nets) {
      for (const e of this.names.get(netId)?.get(name) ?? []) if (this.isLive(e.endpoint)) found.add(e.ip);
    }
    // "<name>.<network>": only on that network, and only if the asker is on it.
    const dot = name.lastIndexOf('.');
    for (let i = name.indexOf('.'); i > 0 && i <= dot; i = name.indexOf('.', i + 1)) {
      const netId = this.networkIdByName.get(name.slice(i + 1));
      if (!netId || !nets.includes(netId)) continue;
      for (const e of this.names.get(netId)?.get(name.slice(0, i)) ?? []) if (this.isLive(e.endpoint)) found.add(e.ip);
    }
    if (found.size === 0) return undefined;
    return shuffle([...found]);
  }

  /** The container name behind an address, if the asker shares a network with it. */
  reverse(sourceIp: string, ip: string): string | undefined {
    for (const netId of this.askerNetworks(sourceIp)) {
      const e = this.reverseNames.get(netId)?.get(ip);
      if (e && this.isLive(e.endpoint)) return e.endpoint.containerName;
    }
    return undefined;
  }

  private askerNetworks(sourceIp: string): string[] {
    const cid = this.containerByIp.get(sourceIp);
    return cid ? (this.networksOf.get(cid) ?? []) : [];
  }
}

export function normalize(qname: string): string {
  return qname.toLowerCase().replace(/\.$/, '');
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** "4.3.2.1.in-addr.arpa" -> "1.2.3.4"; undefined for anything else. */
export function ptrToIpv4(qname: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(normalize(qname));
  return m ? `${m[4]}.${m[3]}.${m[2]}.${m[1]}` : undefined;
}
