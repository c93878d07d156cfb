import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../../src/project/load.js';
import { createHash } from 'node:crypto';
import { objectKey, stackPlan } from '../../src/swarm/spec.js';
import { stackFileObjects } from '../../src/swarm/file-objects.js';
import { parseLine } from '../../src/swarm/logs.js';
import { checkStack, namesRegistry } from '../../src/swarm/refusals.js';
import type { Project } from '../../src/project/types.js';

/** The project as Swarm specs, and the refusals, without a cluster (the Engine API's units: ns, bytes). */

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'tsc-swarm-spec-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function load(yaml: string): Promise<Project> {
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  return loadProject({ cwd: dir, projectName: 'demo', environment: {}, onWarning: () => {} });
}

describe('stackPlan', () => {
  it('maps deploy, healthcheck, ports and networks as docker stack deploy does', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const plan = stackPlan(await load(`
services:
  web:
    image: reg.example:5000/web:2
    environment: {B: "2", A: "1"}
    healthcheck: {test: ["CMD", "true"], interval: 5s, timeout: 2s, retries: 3}
    ports: [{target: 80, published: 8080, mode: host}]
    networks: [back]
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      labels: {tier: front}
      placement: {constraints: [node.role == worker], preferences: [{spread: node.labels.zone}], max_replicas_per_node: 2}
      resources: {limits: {cpus: "0.5", memory: 64M}, reservations: {memory: 16M}}
      restart_policy: {condition: on-failure, delay: 2s, max_attempts: 4}
      update_config: {parallelism: 1, delay: 1s, order: start-first}
networks:
  back: {driver: overlay, attachable: true}
`), new Map([['reg.example:5000/web:2', digest]]));
    expect(plan.networks).toEqual([{ name: 'demo_back', external: false, spec: {
      Name: 'demo_back', Driver: 'overlay', Attachable: true, Internal: false, Labels: { 'com.docker.stack.namespace': 'demo' }, Options: {},
    } }]);
    const spec = plan.services[0]!.spec as Record<string, any>;
    expect(spec.Name).toBe('demo_web');
    expect(spec.Labels).toEqual({ tier: 'front', 'com.docker.stack.image': 'reg.example:5000/web:2', 'com.docker.stack.namespace': 'demo' });
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 3 } });
    expect(spec.EndpointSpec).toEqual({ Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }] });
    expect(spec.UpdateConfig).toEqual({ Parallelism: 1, Delay: 1e9, Order: 'start-first' });
    const t = spec.TaskTemplate;
    expect(t.ContainerSpec.Image).toBe(`reg.example:5000/web:2@${digest}`);
    expect(t.ContainerSpec.Env).toEqual(['A=1', 'B=2']);
    expect(t.ContainerSpec.Healthcheck).toEqual({ Test: ['CMD', 'true'], Interval: 5e9, Timeout: 2e9, Retries: 3 });
    expect(t.Resources).toEqual({ Limits: { NanoCPUs: 5e8, MemoryBytes: 64 * 2 ** 20 }, Reservations: { MemoryBytes: 16 * 2 ** 20 } });
    expect(t.RestartPolicy).toEqual({ Condition: 'on-failure', Delay: 2e9, MaxAttempts: 4 });
    expect(t.Placement).toEqual({ Constraints: ['node.role == worker'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }], MaxReplicas: 2 });
    expect(t.Networks).toEqual([{ Target: 'demo_back', Aliases: ['web'] }]);
  });
});

describe('checkStack', () => {
  it('refuses nothing for a file that fits a cluster without IPVS, and warns for what Swarm ignores', async () => {
    const v = checkStack(await load(`
services:
  app:
    image: reg.example:5000/app:1
    container_name: app1
    restart: always
    deploy: {endpoint_mode: dnsrr}
    ports: [{target: 80, published: 8080, mode: host}]
`), { ipvs: false, unpullable: new Map(), digests: new Map(), nodes: 3 });
    expect(v.refusals).toEqual([]);
    expect(v.warnings).toEqual([
      'service "app": container_name is ignored on a swarm (Swarm names the tasks)',
      'service "app": restart is ignored on a swarm (use deploy.restart_policy)',
    ]);
  });

  it('warns before a start-first update that max_replicas_per_node leaves no room for', async () => {
    const facts = { ipvs: true, unpullable: new Map(), digests: new Map(), nodes: 3 };
    const file = (replicas: number) => load(`
services:
  web:
    image: reg.example:5000/web:1
    deploy: {replicas: ${replicas}, placement: {max_replicas_per_node: 1}, update_config: {order: start-first}}
`);
    expect(checkStack(await file(3), facts).warnings).toEqual([
      'service "web": update_config order start-first needs room for one more task, and max_replicas_per_node 1 on 3 nodes leaves none for 3 replicas: a rolling update would wait forever for its first new task; use order: stop-first, or raise max_replicas_per_node',
    ]);
    expect(checkStack(await file(2), facts).warnings).toEqual([]);
  });

  it('names a registry host only when the first component has a dot, a port or is localhost', () => {
    expect(['reg.example/a', 'localhost/a', '10.0.0.1:5000/a/b', 'host:5000/a'].every(namesRegistry)).toBe(true);
    expect(['busybox', 'library/busybox', 'me/app:1'].some(namesRegistry)).toBe(false);
  });
});

describe('configs and secrets', () => {
  it('are named after their content (a change is a new object) and referenced as docker stack deploy does', async () => {
    writeFileSync(join(dir, 'pw.txt'), 'one');
    const project = await load(`
services:
  app:
    image: reg.example:5000/app:1
    secrets: [pw, {source: ext, target: other, mode: 0400}]
    configs: [{source: greeting, target: /etc/greeting, uid: "33"}]
secrets:
  pw: {file: ./pw.txt}
  ext: {external: true, name: shared-key}
configs:
  greeting: {content: hello}
`);
    const objects = stackFileObjects(project);
    const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 10);
    expect(objects.map((o) => [o.kind, o.key, o.name, o.external, o.data?.toString()])).toEqual([
      ['config', 'greeting', `demo_greeting-${hash('hello')}`, false, 'hello'],
      ['secret', 'pw', `demo_pw-${hash('one')}`, false, 'one'],
      ['secret', 'ext', 'shared-key', true, undefined],
    ]);
    writeFileSync(join(dir, 'pw.txt'), 'two');
    expect(stackFileObjects(project).find((o) => o.key === 'pw')?.name).toBe(`demo_pw-${hash('two')}`);

    const refs = new Map(objects.map((o, i) => [objectKey(o.kind, o.key), { id: `id${i}`, name: o.name }]));
    const spec = stackPlan(project, new Map(), refs).services[0]!.spec as { TaskTemplate: { ContainerSpec: Record<string, unknown> } };
    expect(spec.TaskTemplate.ContainerSpec.Secrets).toEqual([
      { File: { Name: 'pw', UID: '0', GID: '0', Mode: 0o444 }, SecretID: 'id1', SecretName: `demo_pw-${hash('one')}` },
      { File: { Name: 'other', UID: '0', GID: '0', Mode: 0o400 }, SecretID: 'id2', SecretName: 'shared-key' },
    ]);
    expect(spec.TaskTemplate.ContainerSpec.Configs).toEqual([
      { File: { Name: '/etc/greeting', UID: '33', GID: '0', Mode: 0o444 }, ConfigID: 'id0', ConfigName: `demo_greeting-${hash('hello')}` },
    ]);
  });

  it('refuse content they cannot get, naming the object and the fix', async () => {
    const project = await load(`
services:
  app: {image: reg.example:5000/app:1, secrets: [pw]}
secrets:
  pw: {environment: TSC_TEST_UNSET_PASSWORD}
`);
    expect(() => stackFileObjects(project)).toThrow('secret "pw" takes its content from the variable TSC_TEST_UNSET_PASSWORD, which is not set');
  });
});

describe('service logs lines', () => {
  it('take the timestamp first, then the details, then the text', () => {
    expect(parseLine('2026-12-07T03:26:19.769045644Z com.docker.swarm.node.id=n1x,com.docker.swarm.task.id=t1 tick 3', true)).toEqual({
      time: '2026-12-07T03:26:19.769045644Z', details: { 'com.docker.swarm.node.id': 'n1x', 'com.docker.swarm.task.id': 't1' }, text: 'tick 3',
    });
    expect(parseLine('com.docker.swarm.task.id=t1 a=b c', false)).toEqual({ details: { 'com.docker.swarm.task.id': 't1' }, text: 'a=b c' });
  });
});

describe('the compose layer', () => {
  it('has the swarm verbs; config is the stack up will write, with the objects named after their content', async () => {
    const swarm = await import('../../src/compose/swarm.js');
    writeFileSync(join(dir, 'pw.txt'), 'one');
    const plan = swarm.swarmConfig(await load(`
services:
  app: {image: reg.example:5000/app:1, secrets: [pw], deploy: {replicas: 2}}
secrets:
  pw: {file: ./pw.txt}
`));
    expect(plan.services.map((s) => s.name)).toEqual(['demo_app']);
    const spec = plan.services[0]!.spec as { Mode: unknown; TaskTemplate: { ContainerSpec: { Secrets: Array<{ SecretName: string }> } } };
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 2 } });
    expect(spec.TaskTemplate.ContainerSpec.Secrets[0]!.SecretName).toBe(`demo_pw-${createHash('sha256').update('one').digest('hex').slice(0, 10)}`);
  });
});
