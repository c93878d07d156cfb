import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, type RunResult } from '../../src/util/proc.js';
import { privateRoots, repoRoot } from '../support/cache.js';
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
    expect(r.stderr).toContain('this command does not run on a swarm; with --backend swarm, tscompose runs up, ps, logs, scale, config and down');
    const named = await compose('rverb', ['down', 'app']);
    expect(named.code).toBe(1);
    expect(named.stderr).toContain('with --backend swarm, down acts on the whole stack; naming services (app) is not supported');
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

describe('the family on a swarm: config, logs, configs and secrets, scale, down -v', () => {
  const P = 'fam';
  const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 10);
  const yaml = () => `
services:
  app:
    image: ${bed.busybox}
    command: ["sh", "-c", "echo hello from $$(hostname); echo secret=$$(cat /run/secrets/pw); echo config=$$(cat /greeting); echo to-stderr >&2; i=0; while true; do i=$$((i+1)); echo tick $$i; sleep 1; done"]
    stop_grace_period: 1s
    secrets: [pw]
    configs: [greeting]
    volumes: [data:/data]
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      placement: {max_replicas_per_node: 1}
      update_config: {parallelism: 0, order: stop-first}
volumes:
  data: {}
secrets:
  pw: {file: ./pw.txt}
configs:
  greeting: {content: "hello \${GREETING:-world}"}
`;
  const d = () => bed.nodes[0]!.docker;
  const names = async (list: Promise<Array<{ Spec?: { Name?: string } }>>) => (await list).map((o) => o.Spec?.Name).sort();
  const logs = async (args: string[]) => {
    const r = await compose(P, ['logs', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return (r.stdout + r.stderr).trim().split('\n');
  };
  const nodesSaying = (lines: string[], text: string) => new Set(lines.filter((l) => l.endsWith(text)).map((l) => /@(n\d) \| /.exec(l)?.[1]));

  it('config shows the stack up will write; up makes the configs and secrets; logs gather every node; a changed secret rotates; scale; down -v on every node', async () => {
    mkdirSync(join(work, P), { recursive: true });
    writeFileSync(join(work, P, 'pw.txt'), 's3cret-1');
    const written = await compose(P, ['config'], yaml());
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toContain(`SecretName: ${P}_pw-${sha('s3cret-1')}`);
    expect(written.stdout).toContain(`ConfigName: ${P}_greeting-${sha('hello world')}`);
    expect(written.stdout).toMatch(/Replicated:\n\s+Replicas: 3/);
    expect(await stackObjects(P)).toEqual([]);
    expect(await names(d().listSecrets())).toEqual([]);

    expect((await compose(P, ['up'])).code).toBe(0);
    expect(await names(d().listSecrets())).toEqual([`${P}_pw-${sha('s3cret-1')}`]);
    expect(await names(d().listConfigs())).toEqual([`${P}_greeting-${sha('hello world')}`]);

    // Every task's lines, from the three nodes, each with its task and node.
    const all = await logs([]);
    expect(nodesSaying(all, 'secret=s3cret-1'), all.join('\n')).toEqual(new Set(['n1', 'n2', 'n3']));
    expect(nodesSaying(all, 'config=hello world')).toEqual(new Set(['n1', 'n2', 'n3']));
    expect(nodesSaying(all, 'to-stderr')).toEqual(new Set(['n1', 'n2', 'n3']));
    const stamped = await logs(['-t', '--tail', '1']);
    expect(stamped.length, stamped.join('\n')).toBe(3);
    for (const l of stamped) expect(l).toMatch(new RegExp(`^${P}_app\\.[123]@n[123] \\| \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z tick \\d+$`));

    // -f goes on with what the tasks write next, until Ctrl-C.
    const follow = spawn(process.execPath, [join(repoRoot, 'dist/cli/main.js'), '--backend', 'swarm', '-p', P, 'logs', '-f', '--tail', '0', 'app'], {
      cwd: join(work, P), env: { ...process.env, ...privateRoots(work), DOCKER_HOST: bed.manager },
    });
    let followed = '';
    follow.stdout.on('data', (b: Buffer) => { followed += b.toString(); });
    const exited = new Promise<number | null>((resolve) => follow.on('exit', resolve));
    const ticking = (s: string) => new Set(s.split('\n').filter((l) => / \| tick \d+$/.test(l)).map((l) => /@(n\d) /.exec(l)?.[1]));
    for (let i = 0; i < 100 && ticking(followed).size < 3; i++) await sleep(100);
    follow.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(ticking(followed), followed).toEqual(new Set(['n1', 'n2', 'n3']));

    // A changed secret is a new object; the services roll to it, and the old one goes.
    writeFileSync(join(work, P, 'pw.txt'), 's3cret-2');
    const rotated = await compose(P, ['up']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toContain(`Removed secret ${P}_pw-${sha('s3cret-1')} (replaced)`);
    expect(await names(d().listSecrets())).toEqual([`${P}_pw-${sha('s3cret-2')}`]);
    expect(nodesSaying(await logs([]), 'secret=s3cret-2')).toEqual(new Set(['n1', 'n2', 'n3']));
    const same = await compose(P, ['up']);
    expect(same.stderr).not.toContain('Removed');
    expect(await names(d().listSecrets())).toEqual([`${P}_pw-${sha('s3cret-2')}`]);

    const scaled = await compose(P, ['scale', 'app=2']);
    expect(scaled.code, scaled.stderr).toBe(0);
    expect(scaled.stderr).toContain(`Service ${P}_app: 2/2 tasks running the current spec`);
    const running = (await compose(P, ['ps'])).stdout.split('\n').filter((l) => / running +running/.test(l));
    expect(running.length).toBe(2);
    const unknown = await compose(P, ['scale', 'nope=2']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`no service "nope" in the stack "${P}" on this swarm`);

    // The volume is on each node that ran a task; down -v removes it where it reaches the node's
    // dockerd (the manager's, and those TSCOMPOSE_SWARM_NODE_HOSTS names), and names the others.
    const volumesOn = async (i: number) => (await bed.nodes[i]!.docker.listVolumes({ filters: JSON.stringify({ label: [`${LABEL}=${P}`] }) })).Volumes?.map((v) => v.Name) ?? [];
    expect(await Promise.all([0, 1, 2].map(volumesOn))).toEqual([[`${P}_data`], [`${P}_data`], [`${P}_data`]]);
    const partly = await compose(P, ['down', '-v'], undefined, { TSCOMPOSE_SWARM_NODE_HOSTS: bed.nodes[1]!.host });
    expect(partly.code, partly.stderr).toBe(0);
    expect(partly.stderr).toContain(`Removed volume ${P}_data on node n1`);
    expect(partly.stderr).toContain(`Removed volume ${P}_data on node n2`);
    expect(partly.stderr).toContain(`WARN[0000] volume ${P}_data on node n3 stays: no Docker host was given for that node (list the nodes' Docker hosts, comma separated, in TSCOMPOSE_SWARM_NODE_HOSTS, or run docker volume rm there)`);
    expect(partly.stderr).toContain(`Removed secret ${P}_pw-${sha('s3cret-2')}`);
    expect(await stackObjects(P)).toEqual([]);
    expect([await names(d().listSecrets()), await names(d().listConfigs())]).toEqual([[], []]);
    expect(await Promise.all([0, 1].map(volumesOn))).toEqual([[], []]);
    const rest = await compose(P, ['down', '-v'], undefined, { TSCOMPOSE_SWARM_NODE_HOSTS: `${bed.nodes[1]!.host},${bed.nodes[2]!.host}` });
    expect(rest.stderr).toContain(`Removed volume ${P}_data on node n3`);
    expect(await volumesOn(2)).toEqual([]);
  });
});
