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
 *     -i tsc-br+ -o tsc-br+ -> TSCOMPOSE-ISOLATION
 *         -i B -o B ACCEPT        (per network: traffic inside one network)
 *         DROP                    (anything else between our bridges)
 *     per network, not internal:  -o B RELATED,ESTABLISHED ACCEPT; -i B ACCEPT
 *     per network, internal:      -i B DROP; -o B DROP   (no way out, no way in)
 *   filter INPUT    -> TSCOMPOSE-INPUT: DNS to the gateway (udp and tcp 53)
 *   nat POSTROUTING -> TSCOMPOSE-POSTROUTING: -s S ! -o B MASQUERADE (not internal)
 *
 * Per-network rules carry the comment `tscompose:<root tag>:<network id 12>`,
 * so they are found (and deleted with the text iptables-save printed) even
 * after a crash lost the record that made them. The skeleton (chains, jumps)
 * is shared by every tscompose root on the host and goes when no tagged rule
 * is left. Every change is one `iptables-save` to read and one
 * `iptables-restore --noflush` to write, under a host-wide lock, whatever the
 * number of rules.
 */

export const CHAINS = {
  forward: 'TSCOMPOSE-FORWARD',
  isolation: 'TSCOMPOSE-ISOLATION',
  input: 'TSCOMPOSE-INPUT',
  postrouting: 'TSCOMPOSE-POSTROUTING',
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

/** The per-network rules; `top` inserts at the head of the chain. */
interface Rule {
  table: 'filter' | 'nat';
  chain: string;
  spec: string;
  top?: boolean;
}

export function networkRules(n: FirewallNetwork, tag = rootTag()): Rule[] {
  const c = `-m comment --comment "${ruleTag(n.id, tag)}"`;
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
  }
  return rules;
}

const SKELETON = {
  filter: {
    chains: [CHAINS.forward, CHAINS.isolation, CHAINS.input],
    jumps: [
      { chain: 'FORWARD', target: CHAINS.forward },
      { chain: 'INPUT', target: CHAINS.input },
    ],
    fixed: [
      { chain: CHAINS.forward, spec: `-i ${BRIDGE_PREFIX}+ -o ${BRIDGE_PREFIX}+ -j ${CHAINS.isolation}`, top: true },
      { chain: CHAINS.isolation, spec: '-j DROP', top: false },
    ],
  },
  nat: {
    chains: [CHAINS.postrouting],
    jumps: [{ chain: 'POSTROUTING', target: CHAINS.postrouting }],
    fixed: [] as { chain: string; spec: string; top: boolean }[],
  },
} as const;

/**
 * The iptables-restore input that takes the saved ruleset to one where the
 * networks in `add` have exactly their rules and those in `remove` have none.
 * Pure, so that the transaction can be read and tested without a kernel.
 */
export function firewallScript(saved: SavedRules, add: readonly FirewallNetwork[], remove: readonly string[], tag = rootTag()): string {
  const touched = new Set([...add.map((n) => ruleTag(n.id, tag)), ...remove.map((id) => ruleTag(id, tag))]);
  const isTouched = (line: string) => [...touched].some((t) => line.includes(`"${t}"`) || line.includes(` ${t} `));
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const lines = saved.rules[table] ?? [];
    const chains = saved.chains[table] ?? new Set<string>();
    const skel = SKELETON[table];
    const ours = (l: string) => skel.chains.some((ch) => l.startsWith(`-A ${ch} `));
    // Tagged rules that stay after this change (ours in other roots, and our untouched networks).
    const remaining = lines.filter((l) => ours(l) && l.includes('tscompose:') && !isTouched(l)).length;
    const wanted = add.flatMap((n) => networkRules(n, tag)).filter((r) => r.table === table);
    const body: string[] = [];
    if (remaining + wanted.length === 0) {
      // Nothing of anyone's is left: take the skeleton away (flush by declaring, then delete).
      const present = skel.chains.filter((ch) => chains.has(ch));
      if (present.length === 0) continue;
      for (const ch of present) body.push(`:${ch} - [0:0]`);
      for (const j of skel.jumps) {
        if (lines.includes(`-A ${j.chain} -j ${j.target}`)) body.push(`-D ${j.chain} -j ${j.target}`);
      }
      for (const ch of present) body.push(`-X ${ch}`);
    } else {
      for (const ch of skel.chains) if (!chains.has(ch)) body.push(`:${ch} - [0:0]`);
      for (const j of skel.jumps) {
        if (!lines.includes(`-A ${j.chain} -j ${j.target}`)) body.push(`-I ${j.chain} 1 -j ${j.target}`);
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
  const script = firewallScript(await readRules(), add, remove);
  if (!script) return;
  const r = await run('iptables-restore', ['-w', '10', '--noflush'], { input: script });
  if (r.code !== 0) throw new Error(`iptables-restore failed: ${r.stderr.trim()}\n--- script ---\n${script}`);
  if (add.some((n) => !n.internal)) enableForwarding();
}

/** Egress needs routing between the bridge and the host's uplink (Docker sets it too; we never turn it off). */
function enableForwarding(): void {
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1\n');
}

/** Rule lines of this root still in the kernel (for teardown checks and orphan cleanup). */
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
