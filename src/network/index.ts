/**
 * The network module's public API (see docs/internals.md): networks, a
 * container's endpoints on them, and the daemon that serves their DNS and
 * published ports. The runtime joins the namespace at `netnsPath` and writes
 * `hosts` and `resolvConf` into the container.
 */
export { createNetwork, removeNetwork, listNetworks, inspectNetwork, pruneNetworks, type NetworkFilter } from './networks.js';
export { attachContainer, detachContainer, detachContainers } from './endpoints.js';
export { connectContainer, disconnectContainer, findAttachedContainer, type ConnectOptions } from './connect.js';
export { netnsPath } from './links.js';
export { renameContainer } from './rename.js';
export { attachContainers, setContainerRunning, setContainersRunning, type AttachItem } from './batch.js';
export { publishedPorts } from './ports/client.js';
export { ensureDaemon, daemonPing, startDaemonAhead } from './daemon/client.js';
export { parsePublishFlag, fromPortMapping, type PortRequest } from './ports/mapping.js';
export { DEFAULT_NETWORK_NAME } from './names.js';
export { DNS_TTL } from './dns/answer.js';
export type {
  ActualPort,
  AttachOptions,
  AttachResult,
  AttachedAddress,
  CreateNetworkOptions,
  EndpointRequest,
  NetworkInspect,
  NetworkRecord,
  EndpointRecord,
} from './types.js';
