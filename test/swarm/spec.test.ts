import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../../src/project/load.js';
import { stackPlan } from '../../src/swarm/spec.js';
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
`), { ipvs: false, unpullable: new Map(), digests: new Map() });
    expect(v.refusals).toEqual([]);
    expect(v.warnings).toEqual([
      'service "app": container_name is ignored on a swarm (Swarm names the tasks)',
      'service "app": restart is ignored on a swarm (use deploy.restart_policy)',
    ]);
  });

  it('names a registry host only when the first component has a dot, a port or is localhost', () => {
    expect(['reg.example/a', 'localhost/a', '10.0.0.1:5000/a/b', 'host:5000/a'].every(namesRegistry)).toBe(true);
    expect(['busybox', 'library/busybox', 'me/app:1'].some(namesRegistry)).toBe(false);
  });
});
