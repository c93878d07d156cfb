import { deleteLinks, netnsHandles, removeNetnsHandles, taggedLinks } from './links.js';
import { applyFirewall, applyPortForwards, readRules, taggedPortIds, taggedRuleIds, withHostLock } from './firewall.js';
import { readAllNetworks } from './store.js';
import { activeContainers } from './liveness.js';
import { readPortRecords } from './ports/records.js';
import { unpublishPorts } from './ports/client.js';

/**
 * What a crash can leave behind that no record owns any more, for this state
 * root only (our links and rules carry its tag): links whose network or
 * endpoint is gone, rules of removed networks, namespace handles of
 * containers on no network with no process left, and port forwards of
 * containers on no network. Call under the network lock.
 */
export async function collectGarbageLocked(): Promise<{ links: string[]; netns: string[]; ports: string[]; rules: string[] }> {
  const records = readAllNetworks();
  const networkIds = new Set(records.map((n) => n.id));
  const veths = new Set(records.flatMap((n) => Object.values(n.endpoints).map((e) => e.veth)));
  const attached = new Set(records.flatMap((n) => Object.keys(n.endpoints)));

  const links = taggedLinks()
    .filter((l) => (l.kind === 'network' ? !networkIds.has(l.id) : !veths.has(l.name)))
    .map((l) => l.name);

  const loose = netnsHandles().filter((cid) => !attached.has(cid));
  const active = activeContainers(loose);
  const netns = loose.filter((cid) => !active.has(cid));
  await removeNetnsHandles(netns);

  const ports = readPortRecords()
    .filter((r) => !attached.has(r.containerId))
    .map((r) => r.containerId);
  for (const cid of ports) await unpublishPorts(cid);

  const rules = await withHostLock(async () => {
    await deleteLinks(links);
    const saved = await readRules();
    const stale = [...taggedRuleIds(saved)].filter((id12) => ![...networkIds].some((id) => id.startsWith(id12)));
    // Forwards of published ports whose record is gone (a daemon killed between the two).
    const recorded = new Set(readPortRecords().map((r) => r.containerId.slice(0, 12)));
    const forwards = [...taggedPortIds(saved)].filter((id12) => !recorded.has(id12));
    if (forwards.length) await applyPortForwards([], forwards);
    if (stale.length) await applyFirewall([], stale);
    return [...stale, ...forwards.map((id) => `port-${id}`)];
  });
  return { links, netns, ports, rules };
}
