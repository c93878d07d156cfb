import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, type RunResult } from '../../src/util/proc.js';
import { repoRoot } from '../support/cache.js';
import { containerOn as containerOnNode, execOn, startSwarmBed, swarmCli, type SwarmBed } from '../support/swarm.js';

/**
 * `--backend swarm` on a real 3-node swarm (test/swarm/testbed.sh, one bed
 * for the file): each refusal says its sentence and creates nothing on the
 * cluster; a three-service file deploys across the nodes, its client reaches
 * every web replica by name (dnsrr), the store's volume keeps its data over
 * down/up on its node.
 */

const IPVS = existsSync('/proc/net/ip_vs');
const LABEL = 'com.docker.stack.namespace';
let bed: SwarmBed;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsc-swarm-project-'));
  bed = await startSwarmBed();
});

afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
  await bed?.stop();
});

const compose = swarmCli(() => bed, () => work);

/** What carries the stack's label on the manager: services, networks, volumes. */
async function stackObjects(project: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${LABEL}=${project}`] });
  const d = bed.nodes[0]!.docker;
  const [services, networks, volumes] = await Promise.all([d.listServices({ filters }), d.listNetworks({ filters }), d.listVolumes({ filters })]);
  return [...services.map((s) => `service ${s.Spec?.Name}`), ...networks.map((n) => `network ${n.Name}`), ...(volumes.Volumes ?? []).map((v) => `volume ${v.Name}`)];
}

describe('refused before the cluster is touched', () => {
  const svc = (body: string) => `services:\n  app:\n${body}`;
  const ok = () => `    image: ${bed.busybox}\n    deploy: {endpoint_mode: dnsrr}\n`;

  async function refused(project: string, yaml: string, sentence: string): Promise<void> {
    const r = await compose(project, ['up'], yaml);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain(`the stack "${project}" cannot be deployed to this swarm; nothing was created:`);
    expect(r.stderr).toContain(sentence);
    expect(await stackObjects(project)).toEqual([]);
  }

  it('an image the nodes cannot pull (local only, no registry)', async () => {
    // On node 1 only, under a name with no registry: the nodes would look it up on Docker Hub,
    // which they cannot reach (the bed has no route out).
    await bed.nodes[0]!.docker.getImage(bed.busybox).tag({ repo: 'tsc-local-only/busybox', tag: '1' }).catch(async () => {
      await new Promise<void>((resolve, reject) => bed.nodes[0]!.docker.pull(bed.busybox, (err: unknown, stream: NodeJS.ReadableStream) => {
        if (err) return reject(err);
        stream.resume(); stream.on('end', resolve); stream.on('error', reject);
      }));
      await bed.nodes[0]!.docker.getImage(bed.busybox).tag({ repo: 'tsc-local-only/busybox', tag: '1' });
    });
    await refused('rlocal', svc('    image: tsc-local-only/busybox:1\n    deploy: {endpoint_mode: dnsrr}\n'),
      'service "app": the nodes cannot pull image "tsc-local-only/busybox:1" (');
    const r = await compose('rlocal', ['up']);
    expect(r.stderr).toContain('Push it to a registry the nodes reach and name that registry in image:');
  });

  it('a build section without a registry to push to', async () => {
    await refused('rbuild', svc('    build: .\n    deploy: {endpoint_mode: dnsrr}\n'),
      'service "app" has a build section and no registry to push to: the nodes cannot build it. Name a registry the nodes reach in image: (e.g. registry.example:5000/app), run `tscompose build --push app`, then deploy');
  });

  it('a bind mount path', async () => {
    await refused('rbind', svc(`${ok()}    volumes: ['/srv/data:/data']\n`),
      'service "app": the bind mount "/srv/data" -> "/data" names a path on whichever node runs the task, which differs per node; use a named volume (with a placement constraint to keep it on one node) instead');
  });

  it('depends_on, with how to wait instead', async () => {
    const yaml = `services:\n  db:\n${ok()}  app:\n${ok()}    depends_on: [db]\n`;
    await refused('rdeps', yaml,
      'service "app": depends_on (db) is ignored by Swarm, which starts tasks in any order; make "app" wait itself (retry in its command until "db" answers, or a healthcheck with restart_policy condition on-failure) and remove depends_on');
  });

  it('VIP and the ingress mesh where the nodes lack IPVS, offering dnsrr and host mode', async () => {
    const yaml = svc(`    image: ${bed.busybox}\n    ports: ['8080:80']\n`);
    if (IPVS) {
      // A kernel with IPVS: both work, so neither is refused (this machine's has none).
      const r = await compose('rvip', ['up'], yaml);
      expect(r.stderr).not.toContain('needs IPVS');
      expect((await compose('rvip', ['down'])).code).toBe(0);
      return;
    }
    await refused('rvip', yaml, 'service "app": endpoint_mode vip (the default) needs IPVS, which the cluster\'s nodes lack; set deploy.endpoint_mode: dnsrr');
    const r = await compose('rvip', ['up']);
    expect(r.stderr).toContain('service "app": port 80 is published in ingress mode (the default), whose routing mesh needs IPVS, which the cluster\'s nodes lack; publish it in host mode ({target: 80, published: 8080, mode: host})');
  });

  it('verbs a swarm does not run', async () => {
    const r = await compose('rverb', ['start'], svc(ok()));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('this command does not run on a swarm; with --backend swarm, tscompose runs up, ps and down');
    const named = await compose('rverb', ['down', 'app']);
    expect(named.code).toBe(1);
    expect(named.stderr).toContain('with --backend swarm, up, ps and down act on the whole stack; naming services (app) is not supported yet');
    const v = await compose('rverb', ['volume', 'ls']);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain("tscompose volume works on the native engine; a swarm's volumes live on its nodes (use docker there)");
  });
});

/** Polls the manager until `expected` tasks of the stack run, then answers our `ps` (fails with the tasks otherwise). */
async function converged(project: string, expected: number): Promise<RunResult> {
  const filters = JSON.stringify({ label: [`${LABEL}=${project}`], 'desired-state': ['running'] });
  for (let i = 0; i < 480; i++) {
    const tasks = await bed.nodes[0]!.docker.listTasks({ filters });
    if (tasks.filter((t) => t.Status?.State === 'running').length >= expected) break;
    await sleep(250);
  }
  const ps = await compose(project, ['ps']);
  const running = ps.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)).filter((c) => c[2] === 'running' && c[3] === 'running');
  if (running.length < expected) throw new Error(`the stack did not converge:\n${ps.stdout}${ps.stderr}`);
  return ps;
}

describe('the test bed', () => {
  it('is idempotent: up on a live bed changes nothing and names the same nodes', async () => {
    const again = await run(join(repoRoot, 'test/swarm/testbed.sh'), ['up', bed.dir]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`TESTBED_MANAGER=${bed.manager}`);
    const nodes = await bed.nodes[0]!.docker.listNodes();
    expect(nodes.map((n) => `${n.Description?.Hostname} ${n.Status?.State}`).sort()).toEqual(['n1 ready', 'n2 ready', 'n3 ready']);
  });

  it('gives its nodes no route out of the bed', async () => {
    for (const n of bed.nodes) {
      const routes = await run('ip', ['-n', n.netns, 'route', 'show', 'default']);
      expect(routes.code, routes.stderr).toBe(0);
      expect(routes.stdout.trim()).toBe('');
    }
  });
});

const containerOn = (node: number, service: string) => containerOnNode(bed, node, service);
const exec = (node: number, container: string, cmd: string[]) => execOn(bed, node, container, cmd);

describe('a three-service stack across the nodes', () => {
  const P = 'acc1';
  const yaml = () => `
version: "3.8"
services:
  web:
    image: ${bed.busybox}
    command: ["sh", "-c", "echo replica=$$(hostname) > /tmp/index.html; exec httpd -f -p 80 -h /tmp"]
    stop_grace_period: 1s
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      placement: {max_replicas_per_node: 1}
      update_config: {parallelism: 1, delay: 1s, order: stop-first}
      restart_policy: {condition: any, delay: 1s}
      resources: {limits: {memory: 64M}}
  client:
    image: ${bed.busybox}
    command: ["sleep", "3600"]
    container_name: ignored-on-a-swarm
    stop_grace_period: 1s
    deploy: {endpoint_mode: dnsrr, placement: {constraints: [node.hostname == n1]}}
  store:
    image: ${bed.busybox}
    command: ["sh", "-c", "[ -f /data/id ] || cat /proc/sys/kernel/random/uuid > /data/id; exec sleep 3600"]
    stop_grace_period: 1s
    volumes: [data:/data]
    deploy: {endpoint_mode: dnsrr, placement: {constraints: [node.hostname == n3]}}
volumes:
  data: {}
`;

  it('deploys, spreads, answers by name from every replica, keeps the volume over down/up', async () => {
    // A dry run checks against the cluster and creates nothing.
    const dry = await compose(P, ['--dry-run', 'up'], yaml());
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain(`DRY-RUN MODE - Creating service ${P}_web`);
    expect(await stackObjects(P)).toEqual([]);

    const up = await compose(P, ['up']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain('WARN[0000] service "client": container_name is ignored on a swarm (Swarm names the tasks)');

    // What docker stack deploy would label, so `docker stack ps acc1` sees the same stack.
    const web = await bed.nodes[0]!.docker.getService(`${P}_web`).inspect() as { Spec: { Labels: Record<string, string>; Mode: unknown; EndpointSpec: unknown; TaskTemplate: { Placement: unknown; Resources: unknown } } };
    expect(web.Spec.Labels).toMatchObject({ [LABEL]: P, 'com.docker.stack.image': bed.busybox });
    expect((web.Spec.TaskTemplate as { ContainerSpec?: { Image?: string } }).ContainerSpec?.Image).toMatch(new RegExp(`^${bed.busybox.replace(/[.]/g, '\\.')}@sha256:[0-9a-f]{64}$`));
    expect(web.Spec.Mode).toEqual({ Replicated: { Replicas: 3 } });
    expect(web.Spec.EndpointSpec).toMatchObject({ Mode: 'dnsrr' });
    expect(web.Spec.TaskTemplate.Placement).toMatchObject({ MaxReplicas: 1 });
    expect(web.Spec.TaskTemplate.Resources).toMatchObject({ Limits: { MemoryBytes: 64 * 1024 * 1024 } });

    const ps = await converged(P, 5);
    const webNodes = ps.stdout.split('\n').filter((l) => l.startsWith(`${P}_web.`)).map((l) => l.split(/\s+/)[1]);
    expect(new Set(webNodes)).toEqual(new Set(['n1', 'n2', 'n3']));

    // A second up of the same file updates the services in place: the same tasks keep running.
    const running = async () => (await bed.nodes[0]!.docker.listTasks({ filters: JSON.stringify({ label: [`${LABEL}=${P}`], 'desired-state': ['running'] }) })).map((t) => t.ID).sort();
    const tasksBefore = await running();
    const again = await compose(P, ['up']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`Updating service ${P}_web`);
    expect(await running()).toEqual(tasksBefore);

    // The client on n1 reaches web by name across nodes; dnsrr answers every replica.
    const client = await containerOn(0, `${P}_client`);
    const replies = await exec(0, client, ['sh', '-c', 'for i in $(seq 30); do timeout 3 wget -qO- http://web/; done']);
    const replicas = new Set(replies.match(/replica=\w+/g));
    expect(replicas.size, replies).toBe(3);

    // The store's volume on n3 keeps its data over down and up.
    const before = (await exec(2, await containerOn(2, `${P}_store`), ['cat', '/data/id'])).match(/[0-9a-f-]{36}/)?.[0];
    expect(before).toBeDefined();
    const down = await compose(P, ['down']);
    expect(down.code, down.stderr).toBe(0);
    expect(await stackObjects(P)).toEqual([]);
    expect((await compose(P, ['up'])).code).toBe(0);
    await converged(P, 5);
    const after = (await exec(2, await containerOn(2, `${P}_store`), ['cat', '/data/id'])).match(/[0-9a-f-]{36}/)?.[0];
    expect(after).toBe(before);

    const final = await compose(P, ['down']);
    expect(final.code, final.stderr).toBe(0);
    expect((await stackObjects(P)).filter((o) => !o.startsWith('volume'))).toEqual([]);
  });

  it('gives the services, replicas, networks and labels docker stack deploy gives (same file, same run)', async () => {
    const ours = `${P}o`, theirs = `${P}d`;
    try {
      expect((await compose(ours, ['up'], yaml())).code).toBe(0);
      const r = await run('docker', ['-H', bed.manager, 'stack', 'deploy', '-c', join(work, ours, 'compose.yaml'), theirs]);
      expect(r.code, r.stderr).toBe(0);
      const [a, b] = await Promise.all([comparable(ours), comparable(theirs)]);
      expect(a).toEqual(b);
    } finally {
      await compose(ours, ['down']);
      await run('docker', ['-H', bed.manager, 'stack', 'rm', theirs]);
    }
  });
});

/** A stack's services as both deployers should write them, with the stack's name taken out. */
async function comparable(stack: string): Promise<unknown> {
  const d = bed.nodes[0]!.docker;
  const filters = JSON.stringify({ label: [`${LABEL}=${stack}`] });
  const networks = new Map((await d.listNetworks({ filters })).map((n) => [n.Id, n.Name]));
  const services = await d.listServices({ filters });
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll(`${stack}_`, 'STACK_').replaceAll(`"${stack}"`, '"STACK"'));
  return plain(Object.fromEntries(services.map((s) => {
    const spec = s.Spec as any;
    const t = spec.TaskTemplate;
    return [spec.Name, {
      labels: spec.Labels, mode: spec.Mode, endpoint: spec.EndpointSpec, update: spec.UpdateConfig,
      image: t.ContainerSpec.Image, args: t.ContainerSpec.Args, containerLabels: t.ContainerSpec.Labels,
      grace: t.ContainerSpec.StopGracePeriod, mounts: t.ContainerSpec.Mounts,
      constraints: t.Placement?.Constraints, maxReplicas: t.Placement?.MaxReplicas,
      resources: t.Resources, restart: t.RestartPolicy,
      networks: (t.Networks ?? []).map((n: { Target: string; Aliases?: string[] }) => ({ name: networks.get(n.Target) ?? n.Target, aliases: n.Aliases })),
    }];
  })));
}
