import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, hostRunRoot } from '../util/paths.js';
import { run, runOk } from '../util/proc.js';
import { withLock } from '../util/lock.js';
import { BRIDGE_PREFIX, rootTag } from './names.js';

/**
 * Our firewall rules, in iptables (whatever its backend: Debian's is nft).
 *
 *   filter FORWARD  -> TSCOMPOSE-FORWARD (inserted first: a Docker daemon on the
 *                      host sets FORWARD's policy to DROP, so we accept explicitly)
 *     -o tsc-br+ / -i tsc-br+ ctstate DNAT ACCEPT   (a published port, from anywhere
 *                      that reaches the host, as the userland proxy served it)
 *     -i tsc-br+ -o tsc-br+ -> TSCOMPOSE-ISOLATION
 *         -i B -o B ACCEPT        (per network: traffic inside one network)
 *         DROP                    (anything else between our bridges)
 *     per network, not internal:  -o B RELATED,ESTABLISHED ACCEPT; -i B ACCEPT
 *     per network, internal:      -i B DROP; -o B DROP   (no way out, no way in)
 *   filter INPUT    -> TSCOMPOSE-INPUT: from a bridge, nothing new to 127.0.0.0/8
 *                      and nothing from it (route_localnet is on for bridges with
 *                      published ports); DNS to the gateway (udp and tcp 53)
 *   nat PREROUTING, OUTPUT (to a local address) -> TSCOMPOSE-DNAT:
 *                      per published port: [-d HOSTIP] --dport P DNAT to C:T
 *   nat POSTROUTING -> TSCOMPOSE-POSTROUTING:
 *                      -o tsc-br+ from a local address (127.0.0.1 too), DNAT'd: MASQUERADE
 *                      per network, not internal: -s S ! -o B MASQUERADE (egress);
 *                      -s S -o B DNAT'd MASQUERADE (hairpin: a container to a port
 *                      published by its own network, answered through the host)
 *
 * Rules come in groups, each with its comment: a network's carry
 * `tscompose:<root tag>:<network id 12>`, a container's published ports
 * `tscompose:<root tag>:port-<container id 12>`, so they are found (and
 * deleted with the text iptables-save printed) even after a crash lost the
 * record that made them. The skeleton (chains, jumps, fixed rules) is shared
 * by every tscompose root on the host and goes, per table, when no tagged rule
 * is left in it. Every change is one `iptables-save` to read and one
 * `iptables-restore --noflush` to write, under a host-wide lock, whatever the
 * number of rules.
 */

export const CHAINS = {
  forward: 'TSCOMPOSE-FORWARD',
  isolation: 'TSCOMPOSE-ISOLATION',
  input: 'TSCOMPOSE-INPUT',
  postrouting: 'TSCOMPOSE-POSTROUTING',
  dnat: 'TSCOMPOSE-DNAT',
} as const;

export interface FirewallNetwork {
  id: string;
  bridge: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  /** Egress NAT (Docker's enable_ip_masquerade, on unless turned off). */
  masquerade: boolean;
}

/** The saved ruleset, per table: declared chains and `-A` lines in order. */
export interface SavedRules {
  chains: Record<string, Set<string>>;
  rules: Record<string, string[]>;
}

export function parseIptablesSave(text: string): SavedRules {
  const saved: SavedRules = { chains: {}, rules: {} };
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith('*')) {
      table = line.slice(1);
      saved.chains[table] ??= new Set();
      saved.rules[table] ??= [];
    } else if (line.startsWith(':') && table) {
      saved.chains[table]!.add(line.slice(1).split(' ')[0]!);
    } else if (line.startsWith('-A ') && table) {
      saved.rules[table]!.push(line);
    }
  }
  return saved;
}

export function ruleTag(networkId: string, tag = rootTag()): string {
  return `tscompose:${tag}:${networkId.slice(0, 12)}`;
}

/** The published ports of one container (a group of its own). */
export function portTag(containerId: string, tag = rootTag()): string {
  return `tscompose:${tag}:port-${containerId.slice(0, 12)}`;
}

/** A rule of a group; `top` inserts at the head of the chain. */
export interface Rule {
  table: 'filter' | 'nat';
  chain: string;
  spec: string;
  top?: boolean;
}

/** Rules that come and go together, known by the tag in their comment. */
export interface RuleGroup {
  tag: string;
  rules: Rule[];
}

const comment = (groupTag: string) => `-m comment --comment "${groupTag}"`;

export function networkRules(n: FirewallNetwork, tag = rootTag()): Rule[] {
  const c = comment(ruleTag(n.id, tag));
  const b = n.bridge;
  const rules: Rule[] = [
    { table: 'filter', chain: CHAINS.isolation, spec: `-i ${b} -o ${b} ${c} -j ACCEPT`, top: true },
    { table: 'filter', chain: CHAINS.input, spec: `-d ${n.gateway}/32 -i ${b} -p udp -m udp --dport 53 ${c} -j ACCEPT` },
    { table: 'filter', chain: CHAINS.input, spec: `-d ${n.gateway}/32 -i ${b} -p tcp -m tcp --dport 53 ${c} -j ACCEPT` },
  ];
  if (n.internal) {
    rules.push(
      { table: 'filter', chain: CHAINS.forward, spec: `-i ${b} ${c} -j DROP` },
      { table: 'filter', chain: CHAINS.forward, spec: `-o ${b} ${c} -j DROP` },
    );
  } else {
    rules.push(
      { table: 'filter', chain: CHAINS.forward, spec: `-o ${b} -m conntrack --ctstate RELATED,ESTABLISHED ${c} -j ACCEPT` },
      { table: 'filter', chain: CHAINS.forward, spec: `-i ${b} ${c} -j ACCEPT` },
    );
    if (n.masquerade) rules.push({ table: 'nat', chain: CHAINS.postrouting, spec: `-s ${n.subnet} ! -o ${b} ${c} -j MASQUERADE` });
    rules.push({ table: 'nat', chain: CHAINS.postrouting, spec: `-s ${n.subnet} -o ${b} -m conntrack --ctstate DNAT ${c} -j MASQUERADE` });
  }
  return rules;
}

/** One container's published ports as the kernel forwards them (IPv4: an IPv6 host address stays the proxy's). */
export interface PortForward {
  containerId: string;
  targetIp: string;
  ports: { hostIp: string; hostPort: number; protocol: string; target: number }[];
}

export function portRules(f: PortForward, tag = rootTag()): Rule[] {
  const c = comment(portTag(f.containerId, tag));
  return f.ports
    .filter((p) => !p.hostIp.includes(':'))
    .map((p) => {
      const dst = p.hostIp && p.hostIp !== '0.0.0.0' ? `-d ${p.hostIp}/32 ` : '';
      return { table: 'nat' as const, chain: CHAINS.dnat, spec: `${dst}-p ${p.protocol} -m ${p.protocol} --dport ${p.hostPort} ${c} -j DNAT --to-destination ${f.targetIp}:${p.target}` };
    });
}

const ANY_BRIDGE = `${BRIDGE_PREFIX}+`;

/** What every group needs, per table: chains, the jumps into them, and fixed rules (exactly as iptables-save prints them). */
const SKELETON = {
  filter: {
    chains: [CHAINS.forward, CHAINS.isolation, CHAINS.input],
    jumps: [
      { chain: 'FORWARD', spec: `-j ${CHAINS.forward}` },
      { chain: 'INPUT', spec: `-j ${CHAINS.input}` },
    ],
    fixed: [
      { chain: CHAINS.forward, spec: `-i ${ANY_BRIDGE} -o ${ANY_BRIDGE} -j ${CHAINS.isolation}`, top: true },
      { chain: CHAINS.forward, spec: `-o ${ANY_BRIDGE} -m conntrack --ctstate DNAT -j ACCEPT`, top: true },
      { chain: CHAINS.forward, spec: `-i ${ANY_BRIDGE} -m conntrack --ctstate DNAT -j ACCEPT`, top: true },
      { chain: CHAINS.isolation, spec: '-j DROP', top: false },
      // route_localnet lets 127.0.0.1's DNAT'd connections out to a bridge and their answers back; it must
      // not let a container (CAP_NET_RAW) open connections to the host's loopback services, or pose as them.
      { chain: CHAINS.input, spec: `-d 127.0.0.0/8 -i ${ANY_BRIDGE} -m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP`, top: true },
      { chain: CHAINS.input, spec: `-s 127.0.0.0/8 -i ${ANY_BRIDGE} -j DROP`, top: true },
    ],
  },
  nat: {
    chains: [CHAINS.postrouting, CHAINS.dnat],
    jumps: [
      { chain: 'POSTROUTING', spec: `-j ${CHAINS.postrouting}` },
      { chain: 'PREROUTING', spec: `-m addrtype --dst-type LOCAL -j ${CHAINS.dnat}` },
      { chain: 'OUTPUT', spec: `-m addrtype --dst-type LOCAL -j ${CHAINS.dnat}` },
    ],
    fixed: [
      { chain: CHAINS.postrouting, spec: `-o ${ANY_BRIDGE} -m addrtype --src-type LOCAL -m conntrack --ctstate DNAT -j MASQUERADE`, top: true },
    ],
  },
} as const;

/**
 * The iptables-restore input that takes the saved ruleset to one where the
 * groups in `add` have exactly their rules and the tags in `remove` have none.
 * Pure, so that the transaction can be read and tested without a kernel.
 */
export function rulesScript(saved: SavedRules, add: readonly RuleGroup[], remove: readonly string[]): string {
  const touched = new Set([...add.map((g) => g.tag), ...remove]);
  const isTouched = (line: string) => [...touched].some((t) => line.includes(`"${t}"`) || line.includes(` ${t} `));
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const lines = saved.rules[table] ?? [];
    const chains = saved.chains[table] ?? new Set<string>();
    const skel = SKELETON[table];
    const ours = (l: string) => skel.chains.some((ch) => l.startsWith(`-A ${ch} `));
    // Tagged rules that stay after this change (ours in other roots, and our untouched groups).
    const remaining = lines.filter((l) => ours(l) && l.includes('tscompose:') && !isTouched(l)).length;
    const wanted = add.flatMap((g) => g.rules).filter((r) => r.table === table);
    const body: string[] = [];
    if (remaining + wanted.length === 0) {
      // Nothing of anyone's is left: take the skeleton away (flush by declaring, then delete).
      const present = skel.chains.filter((ch) => chains.has(ch));
      if (present.length === 0) continue;
      for (const ch of present) body.push(`:${ch} - [0:0]`);
      for (const j of skel.jumps) {
        if (lines.includes(`-A ${j.chain} ${j.spec}`)) body.push(`-D ${j.chain} ${j.spec}`);
      }
      for (const ch of present) body.push(`-X ${ch}`);
    } else {
      for (const ch of skel.chains) if (!chains.has(ch)) body.push(`:${ch} - [0:0]`);
      for (const j of skel.jumps) {
        if (!lines.includes(`-A ${j.chain} ${j.spec}`)) body.push(`-I ${j.chain} 1 ${j.spec}`);
      }
      for (const f of skel.fixed) {
        if (!lines.includes(`-A ${f.chain} ${f.spec}`)) body.push(f.top ? `-I ${f.chain} 1 ${f.spec}` : `-A ${f.chain} ${f.spec}`);
      }
      for (const l of lines) if (ours(l) && isTouched(l)) body.push(`-D ${l.slice(3)}`);
      for (const r of wanted) body.push(r.top ? `-I ${r.chain} 1 ${r.spec}` : `-A ${r.chain} ${r.spec}`);
    }
    if (body.length) out.push(`*${table}`, ...body, 'COMMIT');
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** The script for networks: those in `add` get exactly their rules, those in `remove` none. */
export function firewallScript(saved: SavedRules, add: readonly FirewallNetwork[], remove: readonly string[], tag = rootTag()): string {
  return rulesScript(saved, add.map((n) => ({ tag: ruleTag(n.id, tag), rules: networkRules(n, tag) })), remove.map((id) => ruleTag(id, tag)));
}

/**
 * Serializes changes to what every tscompose root on this host shares: the
 * firewall skeleton, and the choice of subnets (which must not collide
 * between roots any more than within one).
 */
export function withHostLock<T>(fn: () => Promise<T> | T): Promise<T> {
  // Not /run/lock: any local user can write there (and planted a FIFO that froze every `up`).
  return withLock(join(ensurePrivateDir(hostRunRoot()), 'network.lock'), fn);
}

export async function readRules(): Promise<SavedRules> {
  return parseIptablesSave(await runOk('iptables-save', []));
}

/** Applies the change in one iptables-restore process. Call under withHostLock. */
export async function applyFirewall(add: readonly FirewallNetwork[], remove: readonly string[]): Promise<void> {
  await restore(firewallScript(await readRules(), add, remove));
  if (add.some((n) => !n.internal)) enableForwarding();
}

/**
 * Published ports forwarded by the kernel: the containers in `add` get
 * exactly the DNAT rules of their ports, those in `remove` (container ids)
 * none. Call under withHostLock.
 */
export async function applyPortForwards(add: readonly PortForward[], remove: readonly string[]): Promise<void> {
  await restore(rulesScript(await readRules(), add.map((f) => ({ tag: portTag(f.containerId), rules: portRules(f) })), remove.map((id) => portTag(id))));
  if (add.length) enableForwarding();
}

async function restore(script: string): Promise<void> {
  if (!script) return;
  const r = await run('iptables-restore', ['-w', '10', '--noflush'], { input: script });
  if (r.code !== 0) throw new Error(`iptables-restore failed: ${r.stderr.trim()}\n--- script ---\n${script}`);
}

/**
 * 127.0.0.1's connections to a published port leave through the container's
 * bridge after DNAT (then MASQUERADE): the kernel lets a loopback address
 * onto a device only with route_localnet (Docker sets it on its bridge when
 * the userland proxy is off). TSCOMPOSE-INPUT keeps the bridge's containers
 * from using it to reach the host's loopback.
 */
export function allowLoopbackForwarding(bridge: string): void {
  writeFileSync(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, '1\n');
}

/** Egress needs routing between the bridge and the host's uplink (Docker sets it too; we never turn it off). */
function enableForwarding(): void {
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1\n');
}

/** Container ids (12 hex) whose published ports have rules of this root in the kernel. */
export function taggedPortIds(saved: SavedRules, tag = rootTag()): Set<string> {
  const ids = new Set<string>();
  const re = new RegExp(`tscompose:${tag}:port-([0-9a-f]{12})`);
  for (const l of saved.rules.nat ?? []) {
    const m = re.exec(l);
    if (m) ids.add(m[1]!);
  }
  return ids;
}

/** Network ids (12 hex) with rules of this root still in the kernel (for teardown checks and orphan cleanup). */
export function taggedRuleIds(saved: SavedRules, tag = rootTag()): Set<string> {
  const ids = new Set<string>();
  const re = new RegExp(`tscompose:${tag}:([0-9a-f]{12})`);
  for (const lines of Object.values(saved.rules)) {
    for (const l of lines) {
      const m = re.exec(l);
      if (m) ids.add(m[1]!);
    }
  }
  return ids;
}
