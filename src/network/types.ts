/**
 * The shapes src/network keeps on disk and hands to its callers. A network
 * record is the single source of truth for one network: its addressing, its
 * IPAM bitmap and its endpoints live in one file, written atomically, so a
 * crash can never leave an address allocated to nobody or an endpoint
 * without its address.
 */
import type { PortProtocol } from '../engine/types.js';

export type { PortMapping, PublishedPort, PortProtocol } from '../engine/types.js';

export interface EndpointRecord {
  containerId: string;
  containerName: string;
  /** Docker-style endpoint id (64 hex). */
  endpointId: string;
  /** Names this container answers to on this network, besides its name and short id. */
  aliases: string[];
  ipv4: string;
  mac: string;
  /** The interface name inside the container (eth0, eth1, ...). */
  ifname: string;
  /** The host end of the veth pair (tsc-v<10 hex>). */
  veth: string;
  /** Upstream resolvers of this container's own ("ip" or "ip:port"), instead of the host's. */
  dnsServers?: string[];
  /** Whether DNS answers for this endpoint: set on start, cleared on stop. */
  running: boolean;
  /** The container's init pid and its start time, when the runtime gave them: a dead pid means not running. */
  pid?: number;
  pidStart?: string;
  /** /proc/sys/kernel/random/boot_id when `running` was set: a reboot makes every record stale. */
  bootId?: string;
  /** The endpoint was asked for with a static address (kept across re-attach). */
  staticIpv4?: boolean;
}

export interface IpamState {
  /** One bit per address of the subnet, base64; bit i is address base+i. */
  bitmap: string;
  /** Offset of the last address handed out: allocation continues after it, so freed addresses are not reused at once. */
  cursor: number;
}

export interface NetworkRecord {
  id: string;
  name: string;
  driver: 'bridge';
  /** ISO time. */
  created: string;
  internal: boolean;
  attachable: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** The Linux bridge (tsc-br-<8 hex>). */
  bridge: string;
  subnet: string;
  gateway: string;
  ipRange?: string;
  auxAddresses: Record<string, string>;
  /** The subnet was chosen by the user (inspect reports the IPAM config as given). */
  userConfigured: boolean;
  /** Names resolve on this network (false on the default `bridge`, as with Docker). */
  dnsNames: boolean;
  /** Docker's default network, created on demand. */
  isDefault: boolean;
  ipam: IpamState;
  /** By container id. */
  endpoints: Record<string, EndpointRecord>;
}

export interface CreateNetworkOptions {
  name: string;
  driver?: string;
  internal?: boolean;
  attachable?: boolean;
  enableIpv6?: boolean;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  auxAddresses?: Record<string, string>;
  labels?: Record<string, string>;
  /** Driver options (`-o`); only com.docker.network.* names we understand are accepted. */
  options?: Record<string, string>;
}

export interface EndpointRequest {
  /** Network name or id (or an unambiguous id prefix). */
  network: string;
  aliases?: string[];
  ipv4Address?: string;
}

export interface AttachOptions {
  /** The container's hostname for its /etc/hosts line (default: the first 12 characters of its id). */
  hostname?: string;
  /** Extra /etc/hosts lines: "name:ip" or [name, ip]. */
  extraHosts?: string[];
  /**
   * The container's own resolvers (`--dns`, Compose `dns:`): its resolv.conf
   * still names our server, which forwards the names it does not own to
   * these instead of the host's (as Docker's embedded DNS does).
   */
  dnsServers?: string[];
  /** Extra resolver settings (`--dns-search`, `--dns-option`, Compose dns_search and dns_opt). */
  dnsSearch?: string[];
  dnsOptions?: string[];
}

export interface AttachedAddress {
  network: string;
  networkId: string;
  ifname: string;
  ipv4: string;
  prefixLength: number;
  gateway: string;
  mac: string;
  aliases: string[];
}

export interface ActualPort {
  target: number;
  protocol: PortProtocol;
  hostIp: string;
  hostPort: number;
}

export interface AttachResult {
  /** The network namespace handle for the runtime to join ({mode: 'netns', path}). */
  netnsPath: string;
  /** /etc/hosts and /etc/resolv.conf content for the container. */
  hosts: string;
  resolvConf: string;
  addresses: AttachedAddress[];
  ports: ActualPort[];
}

/** What `inspectNetwork` returns: Docker's shape, so `network inspect` prints what users know. */
export interface NetworkInspect {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge';
  EnableIPv6: boolean;
  IPAM: {
    Driver: 'default';
    Options: Record<string, string>;
    Config: { Subnet: string; Gateway: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> }[];
  };
  Internal: boolean;
  Attachable: boolean;
  Ingress: false;
  ConfigFrom: { Network: string };
  ConfigOnly: false;
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}
