import { existsSync, readdirSync, readFileSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { mountPointsAmong } from '../util/mountinfo.js';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run } from '../util/proc.js';
import { ensurePrivateDir, runPath } from '../util/paths.js';
import { BRIDGE_PREFIX, VETH_PREFIX, rootTag } from './names.js';

/**
 * Bridges, veth pairs and network namespace handles, through iproute2 in
 * batch mode. Node cannot speak rtnetlink, and a process costs milliseconds,
 * so each operation is one process running one `ip -batch` script:
 *
 * - attach: `unshare --net=<handle> ip -batch -` creates the namespace, binds
 *   it to its handle (like `ip netns add`) and runs the container's half
 *   inside it: the veth pair is made there with its host end created straight
 *   in the host namespace (`peer name V netns <host>`), and eth0 is addressed.
 *   Then one `ip -batch` in the host namespace enslaves the host ends to their
 *   bridges, tags and raises them. Moving a link that already exists into
 *   another namespace (`link set dev V netns ...`) waits out RCU grace periods
 *   in the kernel, some 20 ms a link here, and serially: 30 containers took
 *   0.7 s that way and take 0.1 s this way. Until the host batch runs, a host
 *   end carries no tag, but it dies with its namespace, whose handle the
 *   clean-up finds.
 * - connect (namespace exists): the same two halves, the first under
 *   `nsenter --net=<handle>`. Either way one shell runs both halves: one
 *   process for Node to spawn.
 * - bridges and deletions: `ip -batch` in the host namespace.
 */

export function netnsDir(): string {
  return ensurePrivateDir(runPath('netns'));
}

export function netnsPath(containerId: string): string {
  return join(runPath('netns'), containerId);
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** The alias every link of ours carries: finds our links after a crash, and tells one state root's links from another's. */
export function linkAlias(kind: 'network' | 'endpoint', id: string): string {
  return `tscompose/${rootTag()}/${kind}/${id}`;
}

export function readLinkAlias(name: string): string {
  try {
    return readFileSync(`/sys/class/net/${name}/ifalias`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Our links (bridges and veth host ends) that carry this root's tag, by name. */
export function taggedLinks(): { name: string; kind: string; id: string }[] {
  const prefix = `tscompose/${rootTag()}/`;
  const out: { name: string; kind: string; id: string }[] = [];
  for (const name of readdirSync('/sys/class/net')) {
    if (!name.startsWith(BRIDGE_PREFIX) && !name.startsWith(VETH_PREFIX)) continue;
    const alias = readLinkAlias(name);
    if (!alias.startsWith(prefix)) continue;
    const [kind, id] = alias.slice(prefix.length).split('/');
    out.push({ name, kind: kind ?? '', id: id ?? '' });
  }
  return out;
}

async function ipBatch(lines: string[], force = false): Promise<void> {
  if (lines.length === 0) return;
  const argv = ['ip', ...(force ? ['-force'] : []), '-batch', '-'];
  const r = await run(argv[0]!, argv.slice(1), { input: lines.join('\n') + '\n' });
  if (r.code !== 0) {
    const err = r.stderr.trim().split('\n');
    const failed = /Command failed -:(\d+)/.exec(r.stderr);
    const line = failed ? lines[Number(failed[1]) - 1] : undefined;
    throw new Error(`ip ${line ? `"${line}"` : 'batch'} failed: ${err.filter((l) => !l.startsWith('Command failed')).join('; ') || `exit ${r.code}`}`);
  }
}

export interface Bridge {
  name: string;
  networkId: string;
  gateway: string;
  prefix: number;
  mtu?: number;
}

/** Creates the bridge with its gateway address, or repairs one left half-made; idempotent. */
export async function ensureBridge(b: Bridge): Promise<void> {
  const mtu = b.mtu ? ` mtu ${b.mtu}` : '';
  // A fixed MAC: left to itself, a bridge takes the lowest MAC of its ports, and changes it when a
  // new veth with a lower one joins; every container's ARP entry for the gateway then points at a
  // MAC nobody answers to, and DNS (on the gateway) goes silent until the entry is re-learned.
  const lines = linkExists(b.name) ? [] : [`link add name ${b.name} address ${randomMac()}${mtu} type bridge`];
  lines.push(
    `link set dev ${b.name} alias ${linkAlias('network', b.networkId)}`,
    `addr replace ${b.gateway}/${b.prefix} dev ${b.name}`,
    `link set dev ${b.name} up`,
  );
  await ipBatch(lines);
}

/** Deletes links that exist (a veth's peer goes with it); one process for all of them, none when nothing exists. */
export async function deleteLinks(names: readonly string[]): Promise<void> {
  const present = [...new Set(names)].filter(linkExists);
  // A link can vanish between the check and the batch (a veth goes when its container's namespace
  // dies). -force runs the other lines anyway but still exits non-zero, so what counts is whether any
  // of them is still there afterwards.
  let failure: Error | undefined;
  await ipBatch(present.map((n) => `link del dev ${n}`), true).catch((err: Error) => { failure = err; });
  const left = present.filter(linkExists);
  if (left.length) throw new Error(`could not delete link(s) ${left.join(', ')}${failure ? `: ${failure.message}` : ''}`);
}

/** A random locally administered unicast MAC. */
export function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export interface Veth {
  ifname: string;
  veth: string;
  mac: string;
  ipv4: string;
  prefix: number;
  gateway: string;
  bridge: string;
  containerId: string;
  /** Give the container its default route through this network's gateway. */
  defaultRoute: boolean;
  mtu?: number;
}

/**
 * The container's half of its endpoints, run inside its namespace: each veth
 * pair made with its host end created in the host namespace, eth<N>
 * addressed and up, the default route.
 */
export function endpointScript(endpoints: readonly Veth[], withLoopback: boolean, hostNetns = `/proc/${process.pid}/ns/net`): string[] {
  const lines = withLoopback ? ['link set dev lo up'] : [];
  for (const e of endpoints) {
    const mtu = e.mtu ? ` mtu ${e.mtu}` : '';
    lines.push(
      `link add name ${e.ifname} address ${e.mac}${mtu} type veth peer name ${e.veth}${mtu} netns ${hostNetns}`,
      `addr add ${e.ipv4}/${e.prefix} dev ${e.ifname}`,
      `link set dev ${e.ifname} up`,
    );
    if (e.defaultRoute) lines.push(`route replace default via ${e.gateway} dev ${e.ifname}`);
  }
  return lines;
}

/**
 * The host's half, run in the host namespace once the container's half is done: host ends into their
 * bridges, tagged, up; in hairpin mode, as Docker's are without its userland proxy: a container's
 * connection to its own published port comes back, after DNAT, to the port it left by (where the host
 * bridges with netfilter, br_netfilter, rather than routes it).
 */
export function hostEndpointScript(endpoints: readonly Veth[]): string[] {
  return endpoints.flatMap((e) => [
    `link set dev ${e.veth} master ${e.bridge} alias ${linkAlias('endpoint', e.containerId)} up`,
    `link set dev ${e.veth} type bridge_slave hairpin on`,
  ]);
}

/** The file system type of namespace files (/proc/PID/ns/*, and a handle bound to one). */
const NSFS_MAGIC = 0x6e736673;

/**
 * Whether a namespace handle is bound to a namespace: the path is then a file of nsfs, not the empty
 * file on the run root's file system. One statfs, where a search of /proc/self/mountinfo reads every
 * mount of the host (an `up` of 30 read it 60 times, each longer than the last).
 */
export function isNetnsMounted(path: string): boolean {
  try {
    return statfsSync(path).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}

/** Those of `paths` that are mount points in our namespace, from one reading of /proc/self/mountinfo. */
export const mountedAmong = mountPointsAmong;

/** Creates the container's namespace, bound to its handle, and plumbs its endpoints in one process. */
export async function createNetnsWithEndpoints(containerId: string, endpoints: readonly Veth[]): Promise<string> {
  return (await createNamespaces([{ containerId, endpoints }]))[0]!;
}

/**
 * The namespaces of many containers, each bound to its handle with its
 * endpoints plumbed, made by one shell that runs their `unshare ... ip
 * -batch` side by side and then the host's half of all of them in one
 * `ip -batch`: one process for Node to spawn, however many containers.
 */
export async function createNamespaces(items: readonly { containerId: string; endpoints: readonly Veth[] }[]): Promise<string[]> {
  netnsDir();
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  const handles = items.map((it) => netnsPath(it.containerId));
  for (const h of handles) {
    if (mounts.includes(` ${h} `)) throw new Error(`network namespace handle ${h} already exists`);
    writeFileSync(h, '', { mode: 0o400 });
  }
  await plumb(items.map((it, k) => ({ enter: `unshare --net=${shellQuote(handles[k]!)}`, lines: endpointScript(it.endpoints, true), endpoints: it.endpoints })));
  return handles;
}

/** Adds endpoints to an existing namespace (connect to a running container). */
export async function addEndpoints(containerId: string, endpoints: readonly Veth[]): Promise<void> {
  const handle = netnsPath(containerId);
  if (!isNetnsMounted(handle)) throw new Error(`the network namespace of container ${containerId.slice(0, 12)} does not exist`);
  await plumb([{ enter: `nsenter --net=${shellQuote(handle)}`, lines: endpointScript(endpoints, false), endpoints }]);
}

function shellQuote(x: string): string {
  return `'${x.replace(/'/g, "'\\''")}'`;
}

/** Each namespace's half inside it (side by side), then the host's half of them all, in one shell. */
async function plumb(halves: readonly { enter: string; lines: readonly string[]; endpoints: readonly Veth[] }[]): Promise<void> {
  const script = [
    'pids=',
    ...halves.map((h, k) => `${h.enter} ip -batch - <<'TSC_EOF_${k}' &\n${h.lines.join('\n')}\nTSC_EOF_${k}\npids="$pids $!"`),
    'fail=0',
    'for p in $pids; do wait "$p" || fail=1; done',
    '[ $fail = 0 ] || exit 1',
    `exec ip -batch - <<'TSC_EOF_HOST'\n${halves.flatMap((h) => hostEndpointScript(h.endpoints)).join('\n')}\nTSC_EOF_HOST`,
  ].join('\n');
  const r = await run('sh', ['-c', script]);
  if (r.code !== 0) throw new Error(`making the network namespaces failed: ${r.stderr.trim().split('\n').filter((l) => !l.startsWith('Command failed')).join('; ') || `exit ${r.code}`}`);
}

/** Unmounts and removes a namespace handle; idempotent. The namespace itself dies with its last process. */
export async function removeNetns(containerId: string): Promise<void> {
  await removeNetnsHandles([containerId]);
}

/** removeNetns for many containers: their mounted handles go in one `umount` process. */
export async function removeNetnsHandles(containerIds: readonly string[]): Promise<void> {
  const handles = containerIds.map(netnsPath);
  const mounted = [...mountedAmong(handles)];
  if (mounted.length) {
    const r = await run('umount', ['--lazy', ...mounted]);
    const left = r.code === 0 ? [] : [...mountedAmong(mounted)];
    if (left.length) throw new Error(`umount ${left.join(' ')} failed: ${r.stderr.trim()}`);
  }
  for (const handle of handles) {
    try {
      unlinkSync(handle);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/** Container ids whose namespace handles exist under the run root (mounted or left as bare files). */
export function netnsHandles(): string[] {
  try {
    return readdirSync(runPath('netns')).filter((f) => /^[0-9a-f]{64}$/.test(f));
  } catch {
    return [];
  }
}
