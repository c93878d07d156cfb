import { UserError } from '../util/errors.js';
import { DEFAULT_NETWORK_NAME } from './names.js';
import { parsePublishFlag } from './ports/mapping.js';

/**
 * The container flags that concern the network (`--network`, `--network-alias`,
 * `-p`, `--ip`, `--add-host`), checked before a container is created. Kept
 * apart from the wiring so the CLI can check flags without loading the rest
 * of the network module.
 */

export interface ContainerNetworkFlags {
  /** --network: a network name or id; undefined means Docker's default `bridge`. */
  network?: string;
  networkAlias?: string[];
  /** -p/--publish, Docker's syntax. */
  publish?: string[];
  /** --ip */
  ip?: string;
  /** --add-host, which may say host-gateway (the network's gateway). */
  addHost?: string[];
  /** --dns: the container's own resolvers, behind our server. */
  dns?: string[];
}

/** none, host and container:<x> are the runtime's modes; anything else is a network of ours. */
export function isBridgeNetwork(network: string | undefined): boolean {
  const n = network ?? DEFAULT_NETWORK_NAME;
  return n !== 'none' && n !== 'host' && !n.startsWith('container:');
}

/** Checks network flags before anything is created (a bad -p must not leave a container behind). */
export function checkNetworkFlags(f: ContainerNetworkFlags): void {
  const bridged = isBridgeNetwork(f.network);
  for (const p of f.publish ?? []) parsePublishFlag(p);
  if (!bridged && (f.publish?.length || f.networkAlias?.length || f.ip)) {
    const what = f.publish?.length ? '-p/--publish' : f.networkAlias?.length ? '--network-alias' : '--ip';
    throw new UserError(`${what} needs a bridge network, not --network ${f.network}`, 1, `drop ${what}, or run the container on a network (--network NAME)`);
  }
}

