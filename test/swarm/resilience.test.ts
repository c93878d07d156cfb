import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../src/util/proc.js';
import { repoRoot } from '../support/cache.js';
import { containerOn, execOn, startSwarmBed, swarmCli, type SwarmBed } from '../support/swarm.js';

/**
 * A stack on the 3-node swarm (test/swarm/testbed.sh, one bed for the file)
 * while it changes and while its nodes fail: a rolling update of the web
 * service goes one task at a time with a client polling it from inside the
 * swarm and seeing no failed request, a paused update fails `up` with the
 * swarm's reason; draining a node and `kill -9` of a worker's dockerd move the
 * tasks, and `up` after the node is back converges. Everything is asserted
 * from the manager's view (and, for duplicates, from every node's dockerd).
 */

const LABEL = 'com.docker.stack.namespace';
let bed: SwarmBed;
let work: string;
const compose = swarmCli(() => bed, () => work);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsc-swarm-project-'));
  bed = await startSwarmBed();
  // A node is declared down after missed heartbeats: 5 s apart by default (about 15 s to notice
  // a dead node); 1 s keeps the node-failure test short without changing what it shows.
  const r = await run('docker', ['-H', bed.manager, 'swarm', 'update', '--dispatcher-heartbeat', '1s']);
  if (r.code !== 0) throw new Error(r.stderr);
});

afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
  await bed?.stop();
});

interface Task { id: string; service: string; slot?: number; node: string; desired: string; state: string; env: string[]; created: number; since: number }

/** The stack's tasks as the manager sees them. */
async function tasks(project: string): Promise<Task[]> {
  const d = bed.nodes[0]!.docker;
  const nodes = new Map((await d.listNodes()).map((n) => [n.ID, n.Description?.Hostname ?? n.ID]));
  const list = await d.listTasks({ filters: JSON.stringify({ label: [`${LABEL}=${project}`] }) }) as any[];
  return list.map((t) => ({
    id: t.ID, service: services.get(t.ServiceID) ?? t.ServiceID, slot: t.Slot,
    node: nodes.get(t.NodeID) ?? '', desired: t.DesiredState, state: t.Status?.State, env: t.Spec?.ContainerSpec?.Env ?? [],
    created: Date.parse(t.CreatedAt), since: Date.parse(t.Status?.Timestamp),
  }));
}
/** Service names by ID, learnt once a stack is up (tasks name their service by ID only). */
const services = new Map<string, string>();
async function learnServices(project: string): Promise<void> {
  for (const s of await bed.nodes[0]!.docker.listServices({ filters: JSON.stringify({ label: [`${LABEL}=${project}`] }) })) services.set(s.ID, s.Spec?.Name ?? s.ID);
}

/** Polls `probe` until it returns a value (not undefined), for up to 90 s; fails with `what` and the last state otherwise. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, state: () => Promise<unknown>): Promise<T> {
  for (let i = 0; i < 360; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(250);
  }
  throw new Error(`${what} did not happen; the manager sees:\n${JSON.stringify(await state(), null, 1)}`);
}

const live = (ts: Task[], service: string) => ts.filter((t) => t.service === service && t.desired === 'running');

describe('a rolling update under a polling client', () => {
  const P = 'roll';
  // start-first: the new task runs and is healthy (only then does the swarm put it in the
  // service's DNS) before the old one leaves, so the service never has fewer than 3 replicas;
  // the old one is taken out of DNS before it is stopped (the swarm waits for its gossip to spread),
  // and its 2 s grace lets requests in flight finish. stop-first would dip to 2 replicas at each step.
  const yaml = (version: string) => `
services:
  web:
    image: ${bed.busybox}
    # VERSION=broken never serves: its healthcheck fails (the failed update below).
    command: ["sh", "-c", "if [ $$VERSION = broken ]; then exec sleep 3600; fi; echo version=$$VERSION > /tmp/index.html; exec httpd -f -p 80 -h /tmp"]
    environment: {VERSION: "${version}"}
    stop_grace_period: 2s
    healthcheck: {test: [CMD, wget, -qO/dev/null, "http://127.0.0.1/"], interval: 500ms, timeout: 2s, retries: 2}
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      restart_policy: {condition: any, delay: 1s}
      update_config: {parallelism: 1, delay: 0s, order: start-first, failure_action: pause, monitor: 3s}
  client:
    image: ${bed.busybox}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    deploy: {endpoint_mode: dnsrr, placement: {constraints: [node.hostname == n1]}}
`;

  /**
   * A client on the overlay (the client service's container on n1) GETs http://web/ every 0.1 s
   * until told to stop or for 150 s at most; one line per request (FAIL on any error).
   */
  function poll(client: string): { stop(): Promise<string[]> } {
    const script = 'rm -f /tmp/stop; end=$(($(date +%s) + 150)); while [ ! -e /tmp/stop ] && [ $(date +%s) -lt $end ]; do timeout 3 wget -qO- http://web/ 2>/dev/null || echo FAIL; sleep 0.1; done; echo polled';
    const out = execOn(bed, 0, client, ['sh', '-c', script]);
    return {
      async stop() {
        await execOn(bed, 0, client, ['touch', '/tmp/stop']);
        const lines = (await out).split('\n').map((l) => l.replace(/^[\s\S]*?(version=\S+|FAIL|polled)$/, '$1')).filter((l) => /^(version=|FAIL|polled)/.test(l));
        expect(lines.at(-1), 'the poll stopped when told, not at its deadline').toBe('polled');
        return lines.slice(0, -1);
      },
    };
  }

  it('rolls web one task at a time, with no failed request, and fails up with the reason when the update is paused', async () => {
    try {
      const up1 = await compose(P, ['up'], yaml('1'));
      expect(up1.code, up1.stderr).toBe(0);
      // up returns once every task runs: the client's container is there at once.
      const client = await containerOn(bed, 0, `${P}_client`);
      await learnServices(P);

      const polling = poll(client);
      await sleep(1000);
      const up2 = await compose(P, ['up'], yaml('2'));
      const seen = await polling.stop();
      expect(up2.code, up2.stderr).toBe(0);
      // up reported the roll task by task and returned when it was done.
      expect(up2.stderr).toMatch(/Service roll_web: 1\/3 tasks running the current spec\n(.*\n)*Service roll_web: 2\/3 tasks running the current spec\n(.*\n)*Service roll_web: 3\/3 tasks running the current spec/);
      expect(seen.filter((l) => l === 'FAIL'), seen.join('\n')).toEqual([]);
      expect(seen[0]).toBe('version=1');
      expect(seen.at(-1)).toBe('version=2');

      const web = (await bed.nodes[0]!.docker.getService(`${P}_web`).inspect()) as { UpdateStatus?: { State?: string } };
      expect(web.UpdateStatus?.State).toBe('completed');
      // One at a time: each new task was created only after the previous new one ran (parallelism 1),
      // one per slot, and every old task is shut down.
      const ts = (await tasks(P)).filter((t) => t.service === `${P}_web`);
      const fresh = ts.filter((t) => t.env.includes('VERSION=2')).sort((a, b) => a.created - b.created);
      expect(fresh.map((t) => `${t.desired}/${t.state}`)).toEqual(['running/running', 'running/running', 'running/running']);
      expect(new Set(fresh.map((t) => t.slot)).size).toBe(3);
      for (let i = 1; i < fresh.length; i++) expect(fresh[i]!.created, `task ${i + 1} created before task ${i} ran`).toBeGreaterThanOrEqual(fresh[i - 1]!.since);
      expect(ts.filter((t) => t.env.includes('VERSION=1')).map((t) => t.desired)).toEqual(['shutdown', 'shutdown', 'shutdown']);

      // An update whose new task never gets healthy: the swarm pauses it (failure_action: pause)
      // and up fails with its reason; start-first kept the old tasks serving all along.
      const polling2 = poll(client);
      const broken = await compose(P, ['up'], yaml('broken'));
      const seen2 = await polling2.stop();
      expect(broken.code, broken.stderr).toBe(1);
      expect(broken.stderr).toContain('the rolling update of service "roll_web" was paused by the swarm: update paused due to failure or early termination of task');
      expect(broken.stderr).toContain('fix the file and run up again, or go back with `docker service rollback roll_web`');
      expect(seen2.filter((l) => l !== 'version=2'), seen2.join('\n')).toEqual([]);

      // A second up after the failure converges.
      const fixed = await compose(P, ['up'], yaml('3'));
      expect(fixed.code, fixed.stderr).toBe(0);
      const after = live(await tasks(P), `${P}_web`);
      expect(after.map((t) => `${t.state} ${t.env.includes('VERSION=3')}`)).toEqual(['running true', 'running true', 'running true']);
    } finally {
      await compose(P, ['down']);
    }
  });
});

describe('nodes leaving and coming back', () => {
  const P = 'nodes';
  const yaml = () => `
services:
  web:
    image: ${bed.busybox}
    command: ["httpd", "-f", "-p", "80", "-h", "/tmp"]
    stop_grace_period: 1s
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      restart_policy: {condition: any, delay: 1s}
`;
  const web = `${P}_web`;
  const state = async () => (await tasks(P)).filter((t) => t.desired === 'running').map((t) => `${t.service}.${t.slot} ${t.node} ${t.state}`);
  /** Three web tasks wanted and running, none on `away`: the nodes they run on. */
  const movedOff = (away: string) => async () => {
    const l = live(await tasks(P), web);
    return l.length === 3 && l.every((t) => t.state === 'running' && t.node !== away) ? l.map((t) => t.node) : undefined;
  };

  it('drain moves the tasks, kill -9 of a worker\'s dockerd reschedules them, up after its return converges', async () => {
    try {
      const up = await compose(P, ['up'], yaml());
      expect(up.code, up.stderr).toBe(0);
      await learnServices(P);
      // The swarm spreads the replicas over the three nodes: n3 has one to give up.
      expect(live(await tasks(P), web).map((t) => t.node).sort()).toEqual(['n1', 'n2', 'n3']);

      const drain = await run('docker', ['-H', bed.manager, 'node', 'update', '--availability', 'drain', 'n3']);
      expect(drain.code, drain.stderr).toBe(0);
      const drained = await waitFor('draining n3', movedOff('n3'), state);
      expect(drained.sort()).toContain('n2');
      expect((await run('docker', ['-H', bed.manager, 'node', 'update', '--availability', 'active', 'n3'])).code).toBe(0);

      // n2's dockerd dies without a word; the manager misses its heartbeats, declares it down and
      // starts its tasks on the remaining nodes.
      process.kill(Number(readFileSync(join(bed.dir, 'n2/dockerd.pid'), 'utf8')), 'SIGKILL');
      await waitFor('rescheduling n2\'s task', movedOff('n2'), state);
      const n2 = (await bed.nodes[0]!.docker.listNodes()).find((n) => n.Description?.Hostname === 'n2');
      expect(n2?.Status?.State).toBe('down');

      // The node comes back (the bed's up restarts a dead dockerd; it rejoins with its swarm state).
      const back = await run(join(repoRoot, 'test/swarm/testbed.sh'), ['up', bed.dir]);
      expect(back.code, back.stderr).toBe(0);
      const again = await compose(P, ['up']);
      expect(again.code, again.stderr).toBe(0);
      const l = live(await tasks(P), web);
      expect(l.map((t) => t.state)).toEqual(['running', 'running', 'running']);
      expect(new Set(l.map((t) => t.slot)).size).toBe(3);
      // Nothing duplicated: the nodes' own dockerds run three web containers in all (n2's old
      // one was stopped when its dockerd came back).
      const containers = await waitFor('three web containers across the nodes', async () => {
        const counts = await Promise.all(bed.nodes.map(async (n) => (await n.docker.listContainers({ filters: JSON.stringify({ label: [`com.docker.swarm.service.name=${web}`] }) })).length));
        return counts.reduce((a, b) => a + b, 0) === 3 ? counts : undefined;
      }, state);
      expect(containers.reduce((a, b) => a + b, 0)).toBe(3);
    } finally {
      await compose(P, ['down']);
    }
  });
});
