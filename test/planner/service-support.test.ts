import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.js';
import { buildRequest, planImages } from '../../src/planner/images.js';
import { Label } from '../../src/planner/labels.js';
import { reconcile } from '../../src/planner/reconcile.js';
import { SERVICE_SUPPORT, checkSupport, findingsOf } from '../../src/planner/service-support.js';
import { REFERENCE_SCHEMA } from '../support/corpus.js';
import { load } from '../project/helpers.js';
import { FakeWorld } from './fixtures.js';

/**
 * Every property of a service in the Compose Specification's schema is
 * classified in SERVICE_SUPPORT (honoured, refused or warned), and each
 * verdict is checked: an honoured property changes what the planner asks the
 * engine for (or the images it pulls or builds); a refused one stops
 * checkSupport with its sentence; a warned one yields its warning.
 */
type Node = Record<string, unknown>;
const schema = JSON.parse(readFileSync(REFERENCE_SCHEMA, 'utf8')) as Node;
const defs = schema.$defs as Record<string, Node>;

/** A schema node with $ref followed and oneOf/anyOf flattened into its variants. */
function variants(node: Node | undefined): Node[] {
  if (!node) return [];
  if (typeof node.$ref === 'string') return variants(defs[node.$ref.replace('#/$defs/', '')]);
  const alts = [...((node.oneOf as Node[]) ?? []), ...((node.anyOf as Node[]) ?? [])];
  return [node, ...alts.flatMap(variants)];
}

/** The property names the schema allows at a dotted path of a service (`*`: entries of a list or map). */
function schemaKeys(path: string[]): string[] {
  let nodes = variants(defs.service);
  for (const seg of path) {
    nodes = nodes.flatMap((n) => {
      if (seg !== '*') return variants((n.properties as Record<string, Node> | undefined)?.[seg]);
      const pattern = Object.entries((n.patternProperties as Record<string, Node>) ?? {}).filter(([k]) => k !== '^x-').map(([, v]) => v);
      return [...variants(n.items as Node | undefined), ...pattern.flatMap(variants)];
    });
  }
  return [...new Set(nodes.flatMap((n) => Object.keys((n.properties as object) ?? {})))].sort();
}

/** The sub-trees classified key by key (the rest is classified as a whole by its top-level property). */
const DEEP = ['build', 'deploy', 'deploy.resources', 'deploy.resources.limits', 'deploy.resources.reservations', 'deploy.restart_policy', 'blkio_config', 'healthcheck', 'logging', 'networks.*', 'volumes.*', 'volumes.*.bind', 'volumes.*.volume', 'volumes.*.tmpfs'];

describe('the classification covers the Compose Specification', () => {
  it('classifies every top-level service property of the schema', () => {
    const top = schemaKeys([]);
    expect(top.length).toBeGreaterThan(80);
    expect(top.filter((k) => !(k in SERVICE_SUPPORT))).toEqual([]);
  });

  it.each(DEEP)('classifies every key of %s', (parent) => {
    const keys = schemaKeys(parent.split('.'));
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => !(`${parent}.${k}` in SERVICE_SUPPORT))).toEqual([]);
  });

  it('classifies nothing the schema does not have', () => {
    for (const path of Object.keys(SERVICE_SUPPORT)) {
      const segs = path.split('.');
      expect(schemaKeys(segs.slice(0, -1)), path).toContain(segs[segs.length - 1]);
    }
  });
});

/** A compose file: service `a` (busybox plus `lines`, or `body` instead), other services and top-level keys. */
interface Sample {
  lines?: string;
  body?: string;
  /** The baseline's lines for `a` (default: none), for a property that only means something beside another. */
  base?: string;
  /** The baseline's whole body for `a`, instead of busybox plus `base`. */
  baseBody?: string;
  top?: string;
  others?: string;
  files?: Record<string, string>;
}

const S = (lines: string, more: Omit<Sample, 'lines'> = {}): Sample => ({ lines, ...more });
const indent = (text: string, n: number) => text.split('\n').map((l) => ' '.repeat(n) + l).join('\n');
const b = { others: 'b: { image: busybox }' };
/** A build section beside the baseline's `build: { context: . }` (the image then named after the project). */
const B = (lines: string, more: Omit<Sample, 'lines' | 'body' | 'base'> = {}): Sample => ({
  body: `build:\n  context: .\n${indent(lines, 2)}`,
  base: '',
  ...more,
  baseBody: 'build:\n  context: .',
});
const hc = { base: 'healthcheck: { test: [CMD, "true"] }' };
const twoNets = { base: 'networks: { n1: {}, n2: {} }', top: 'networks: { n1: {}, n2: {} }' };

function composeText(s: Sample, baseline: boolean): string {
  const body = baseline ? (s.baseBody ?? `image: busybox${s.base ? `\n${s.base}` : ''}`) : (s.body ?? `image: busybox\n${s.lines ?? ''}`);
  return `services:\n  a:\n${indent(body, 4)}\n${s.others ? indent(s.others, 2) + '\n' : ''}${s.top ?? ''}\n`;
}

/** One sample per classified path: a value that makes the property count (for refusals, a value refused). */
const SAMPLES: Record<string, Sample> = {
  annotations: S('annotations: { a: b }'),
  build: { body: 'build: .' },
  'build.context': { body: 'build:\n  context: ./sub', baseBody: 'build:\n  context: .', files: { 'sub/Dockerfile': 'FROM busybox\n' } },
  'build.dockerfile': B('dockerfile: Other.Dockerfile'),
  'build.dockerfile_inline': B('dockerfile_inline: "FROM busybox"'),
  'build.args': B('args: { A: "1" }'),
  'build.labels': B('labels: { a: b }'),
  'build.tags': B('tags: [other:1]'),
  'build.target': B('target: final'),
  'build.network': B('network: none'),
  'build.no_cache': B('no_cache: true'),
  'build.pull': B('pull: true'),
  'build.extra_hosts': B('extra_hosts: ["h=10.1.2.3"]'),
  'build.shm_size': B('shm_size: 64m'),
  'build.platforms': B('platforms: [linux/amd64, linux/arm64]'),
  'build.ssh': B('ssh: [default]'),
  'build.secrets': B('secrets: [s]', { top: 'secrets: { s: { file: ./s.txt } }', files: { 's.txt': 'x' } }),
  'build.additional_contexts': B('additional_contexts: { other: ./other }'),
  'build.privileged': B('privileged: true'),
  'build.entitlements': B('entitlements: [network.host]'),
  'build.cache_from': B('cache_from: [type=local,src=/tmp/c]'),
  'build.cache_to': B('cache_to: [type=local,dest=/tmp/c]'),
  'build.no_cache_filter': B('no_cache_filter: [final]'),
  'build.provenance': B('provenance: "true"'),
  'build.sbom': B('sbom: "true"'),
  'build.isolation': B('isolation: process'),
  'build.ulimits': B('ulimits: { nofile: 1024 }'),
  blkio_config: S('blkio_config: { weight: 300 }'),
  'blkio_config.weight': S('blkio_config: { weight: 300 }'),
  'blkio_config.weight_device': S('blkio_config: { weight_device: [{ path: /dev/sda, weight: 400 }] }'),
  'blkio_config.device_read_bps': S('blkio_config: { device_read_bps: [{ path: /dev/sda, rate: 1mb }] }'),
  'blkio_config.device_read_iops': S('blkio_config: { device_read_iops: [{ path: /dev/sda, rate: 100 }] }'),
  'blkio_config.device_write_bps': S('blkio_config: { device_write_bps: [{ path: /dev/sda, rate: 1mb }] }'),
  'blkio_config.device_write_iops': S('blkio_config: { device_write_iops: [{ path: /dev/sda, rate: 100 }] }'),
  cap_add: S('cap_add: [NET_ADMIN]'),
  cap_drop: S('cap_drop: [CHOWN]'),
  cgroup: S('cgroup: host'),
  cgroup_parent: S('cgroup_parent: mine'),
  command: S('command: [echo, hi]'),
  configs: S('configs: [c]', { top: 'configs: { c: { file: ./c.txt } }', files: { 'c.txt': 'x' } }),
  container_name: S('container_name: mine'),
  cpu_count: S('cpu_count: 2'),
  cpu_percent: S('cpu_percent: 50'),
  cpu_shares: S('cpu_shares: 512'),
  cpu_quota: S('cpu_quota: 50000'),
  cpu_period: S('cpu_period: 100000'),
  cpu_rt_period: S('cpu_rt_period: 1000000'),
  cpu_rt_runtime: S('cpu_rt_runtime: 950000'),
  cpus: S('cpus: 0.5'),
  cpuset: S('cpuset: "0"'),
  credential_spec: S('credential_spec: { file: spec.json }'),
  depends_on: S('depends_on: [b]', b),
  deploy: S('deploy: { resources: { limits: { memory: 64M } } }'),
  'deploy.mode': S('deploy: { mode: global }'),
  'deploy.endpoint_mode': S('deploy: { endpoint_mode: dnsrr }'),
  'deploy.replicas': S('deploy: { replicas: 2 }'),
  'deploy.labels': S('deploy: { labels: { a: b } }'),
  'deploy.rollback_config': S('deploy: { rollback_config: { parallelism: 1 } }'),
  'deploy.update_config': S('deploy: { update_config: { parallelism: 1 } }'),
  'deploy.placement': S('deploy: { placement: { constraints: [node.role==manager] } }'),
  'deploy.resources': S('deploy: { resources: { limits: { memory: 64M } } }'),
  'deploy.resources.limits': S('deploy: { resources: { limits: { memory: 64M } } }'),
  'deploy.resources.limits.cpus': S('deploy: { resources: { limits: { cpus: "0.5" } } }'),
  'deploy.resources.limits.memory': S('deploy: { resources: { limits: { memory: 64M } } }'),
  'deploy.resources.limits.pids': S('deploy: { resources: { limits: { pids: 10 } } }'),
  'deploy.resources.reservations': S('deploy: { resources: { reservations: { memory: 32M } } }'),
  'deploy.resources.reservations.cpus': S('deploy: { resources: { reservations: { cpus: "0.5" } } }'),
  'deploy.resources.reservations.memory': S('deploy: { resources: { reservations: { memory: 32M } } }'),
  'deploy.resources.reservations.generic_resources': S('deploy: { resources: { reservations: { generic_resources: [{ discrete_resource_spec: { kind: fpga, value: 1 } }] } } }'),
  'deploy.resources.reservations.devices': S('deploy: { resources: { reservations: { devices: [{ capabilities: [gpu] }] } } }'),
  'deploy.restart_policy': S('deploy: { restart_policy: { condition: on-failure } }'),
  'deploy.restart_policy.condition': S('deploy: { restart_policy: { condition: any } }'),
  'deploy.restart_policy.max_attempts': S('deploy: { restart_policy: { condition: on-failure, max_attempts: 3 } }', { base: 'deploy: { restart_policy: { condition: on-failure } }' }),
  'deploy.restart_policy.delay': S('deploy: { restart_policy: { condition: on-failure, delay: 5s } }'),
  'deploy.restart_policy.window': S('deploy: { restart_policy: { condition: on-failure, window: 30s } }'),
  device_cgroup_rules: S('device_cgroup_rules: ["c 1:3 mr", "c 1:3 rx"]'),
  devices: S('devices: [/dev/null:/dev/xnull]'),
  dns: S('dns: [10.0.0.53]'),
  dns_opt: S('dns_opt: [ndots:2]'),
  dns_search: S('dns_search: [example.org]'),
  domainname: S('domainname: example.org'),
  entrypoint: S('entrypoint: [sh]'),
  env_file: S('env_file: [.env.a]', { files: { '.env.a': 'A=1\n' } }),
  label_file: S('label_file: [labels.txt]', { files: { 'labels.txt': 'a=b\n' } }),
  environment: S('environment: { A: "1" }'),
  expose: S('expose: ["80"]'),
  extends: S('extends: { service: base }', { others: 'base: { image: busybox, environment: { FROM_BASE: "1" } }' }),
  provider: { body: 'provider: { type: model, options: { model: ai/x } }' },
  external_links: S('external_links: ["other:o"]'),
  extra_hosts: S('extra_hosts: ["h=10.1.2.3"]'),
  gpus: S('gpus: all'),
  group_add: S('group_add: [audio]'),
  healthcheck: S('healthcheck: { test: [CMD, "true"] }'),
  'healthcheck.test': S('healthcheck: { test: [CMD, "true"] }'),
  'healthcheck.interval': S('healthcheck: { test: [CMD, "true"], interval: 5s }', hc),
  'healthcheck.timeout': S('healthcheck: { test: [CMD, "true"], timeout: 5s }', hc),
  'healthcheck.retries': S('healthcheck: { test: [CMD, "true"], retries: 7 }', hc),
  'healthcheck.start_period': S('healthcheck: { test: [CMD, "true"], start_period: 5s }', hc),
  'healthcheck.start_interval': S('healthcheck: { test: [CMD, "true"], start_interval: 1s }', hc),
  'healthcheck.disable': S('healthcheck: { disable: true }'),
  hostname: S('hostname: h'),
  image: { body: 'image: alpine' },
  init: S('init: true'),
  ipc: S('ipc: host'),
  isolation: S('isolation: process'),
  labels: S('labels: { a: b }'),
  links: S('links: [b]', b),
  logging: S('logging: { driver: local }'),
  'logging.driver': S('logging: { driver: syslog }'),
  'logging.options': S('logging: { options: { max-size: 10k, tag: "{{.Name}}" } }'),
  mac_address: S('mac_address: 02:42:ac:11:00:02'),
  mem_limit: S('mem_limit: 64m'),
  mem_reservation: S('mem_reservation: 32m'),
  mem_swappiness: S('mem_swappiness: 10'),
  memswap_limit: S('mem_limit: 64m\nmemswap_limit: 128m', { base: 'mem_limit: 64m' }),
  network_mode: S('network_mode: host'),
  models: S('models: [m]', { top: 'models: { m: { model: ai/x } }' }),
  networks: S('networks: [n]', { top: 'networks: { n: {} }' }),
  'networks.*.aliases': S('networks: { n1: { aliases: [x] }, n2: {} }', twoNets),
  'networks.*.ipv4_address': S('networks: { n1: { ipv4_address: 10.9.0.5 }, n2: {} }', { ...twoNets, top: 'networks: { n1: { ipam: { config: [{ subnet: 10.9.0.0/24 }] } }, n2: {} }' }),
  'networks.*.priority': S('networks: { n1: {}, n2: { priority: 10 } }', twoNets),
  'networks.*.gw_priority': S('networks: { n1: {}, n2: { gw_priority: 10 } }', twoNets),
  'networks.*.ipv6_address': S('networks: { n1: { ipv6_address: "fd00::5" } }', twoNets),
  'networks.*.mac_address': S('networks: { n1: { mac_address: "02:42:ac:11:00:02" } }', twoNets),
  'networks.*.link_local_ips': S('networks: { n1: { link_local_ips: [169.254.8.8] } }', twoNets),
  'networks.*.driver_opts': S('networks: { n1: { driver_opts: { a: b } } }', twoNets),
  'networks.*.interface_name': S('networks: { n1: { interface_name: eth7 } }', twoNets),
  oom_kill_disable: S('oom_kill_disable: true'),
  oom_score_adj: S('oom_score_adj: 100'),
  pid: S('pid: host'),
  pids_limit: S('pids_limit: 10'),
  platform: S('platform: linux/arm64'),
  ports: S('ports: ["8080:80"]'),
  pre_start: S('pre_start: [{ command: [echo, hi] }]'),
  post_start: S('post_start: [{ command: [echo, hi] }]'),
  pre_stop: S('pre_stop: [{ command: [echo, hi] }]'),
  privileged: S('privileged: true'),
  profiles: S('profiles: [x]'),
  pull_policy: S('pull_policy: always'),
  pull_refresh_after: S('pull_refresh_after: 1d'),
  read_only: S('read_only: true'),
  restart: S('restart: always'),
  runtime: S('runtime: kata'),
  scale: S('scale: 2'),
  security_opt: S('security_opt: [no-new-privileges]'),
  shm_size: S('shm_size: 64m'),
  secrets: S('secrets: [s]', { top: 'secrets: { s: { file: ./s.txt } }', files: { 's.txt': 'x' } }),
  sysctls: S('sysctls: { net.core.somaxconn: 1024 }'),
  stdin_open: S('stdin_open: true'),
  stop_grace_period: S('stop_grace_period: 5s'),
  stop_signal: S('stop_signal: SIGINT'),
  storage_opt: S('storage_opt: { size: 1G }'),
  tmpfs: S('tmpfs: [/run]'),
  tty: S('tty: true'),
  ulimits: S('ulimits: { nofile: 1024 }'),
  use_api_socket: S('use_api_socket: true'),
  user: S('user: "1000"'),
  uts: S('uts: service:b', b),
  userns_mode: S('userns_mode: private'),
  volumes: S('volumes: [data:/data]', { top: 'volumes: { data: {} }' }),
  'volumes.*.type': S('volumes: [{ type: npipe, source: pipe, target: /pipe }]'),
  'volumes.*.source': S('volumes: [{ type: volume, source: data, target: /data }]', { base: 'volumes: [{ type: volume, target: /data }]', top: 'volumes: { data: {} }' }),
  'volumes.*.target': S('volumes: [{ type: tmpfs, target: /b }]', { base: 'volumes: [{ type: tmpfs, target: /a }]' }),
  'volumes.*.read_only': S('volumes: [{ type: tmpfs, target: /a, read_only: true }]', { base: 'volumes: [{ type: tmpfs, target: /a }]' }),
  'volumes.*.consistency': S('volumes: [{ type: bind, source: ., target: /src, consistency: cached }]'),
  'volumes.*.bind': S('volumes: [{ type: bind, source: ., target: /src, bind: { create_host_path: false } }]', { base: 'volumes: [{ type: bind, source: ., target: /src }]' }),
  'volumes.*.bind.create_host_path': S('volumes: [{ type: bind, source: ., target: /src, bind: { create_host_path: false } }]', { base: 'volumes: [{ type: bind, source: ., target: /src }]' }),
  'volumes.*.bind.propagation': S('volumes: [{ type: bind, source: ., target: /src, bind: { propagation: shared } }]'),
  'volumes.*.bind.recursive': S('volumes: [{ type: bind, source: ., target: /src, bind: { recursive: disabled } }]'),
  'volumes.*.bind.selinux': S('volumes: [{ type: bind, source: ., target: /src, bind: { selinux: z } }]'),
  'volumes.*.volume': S('volumes: [{ type: volume, source: data, target: /data, volume: { nocopy: true } }]', { base: 'volumes: [data:/data]', top: 'volumes: { data: {} }' }),
  'volumes.*.volume.nocopy': S('volumes: [{ type: volume, source: data, target: /data, volume: { nocopy: true } }]', { base: 'volumes: [data:/data]', top: 'volumes: { data: {} }' }),
  'volumes.*.volume.labels': S('volumes: [{ type: volume, source: data, target: /data, volume: { labels: { a: b } } }]', { top: 'volumes: { data: {} }' }),
  'volumes.*.volume.subpath': S('volumes: [{ type: volume, source: data, target: /data, volume: { subpath: sub } }]', { top: 'volumes: { data: {} }' }),
  'volumes.*.tmpfs': S('volumes: [{ type: tmpfs, target: /a, tmpfs: { size: 64m } }]', { base: 'volumes: [{ type: tmpfs, target: /a }]' }),
  'volumes.*.tmpfs.size': S('volumes: [{ type: tmpfs, target: /a, tmpfs: { size: 64m } }]', { base: 'volumes: [{ type: tmpfs, target: /a }]' }),
  'volumes.*.tmpfs.mode': S('volumes: [{ type: tmpfs, target: /a, tmpfs: { mode: 0700 } }]', { base: 'volumes: [{ type: tmpfs, target: /a }]' }),
  'volumes.*.image': S('volumes: [{ type: volume, source: data, target: /data, image: { subpath: sub } }]', { top: 'volumes: { data: {} }' }),
  volumes_from: S('volumes_from: [b]', b),
  working_dir: S('working_dir: /srv'),
};

/**
 * Honoured where the compose layer acts on it rather than the planner's operations: checked end to end
 * (attach: test/orchestrator/service-support.test.ts; the hooks, run by the executor around each start and
 * stop: test/orchestrator/hooks.test.ts; develop, the rules of `watch` and `up --watch`: test/orchestrator/watch.test.ts).
 */
const UP_LEVEL = ['attach', 'post_start', 'pre_stop', 'develop'];

const images = { images: { inspect: async () => ({ id: 'sha256:x' }) } } as unknown as Engine;

/** What the planner asks of the engine for a file: images to pull or build, build requests, then every operation; the temp dir and the hash labels left out. */
async function effect(text: string, files: Record<string, string> = {}): Promise<string> {
  const { project, dir } = await load(text, { files });
  const acts = await planImages(project, images, { services: Object.keys(project.services) });
  const builds = Object.keys(project.services).filter((n) => project.services[n]!.build).map((n) => buildRequest(project, n, `${project.name}-${n}`));
  const nodes = reconcile(project, new FakeWorld().observe(project), {}).nodes;
  for (const n of nodes) {
    if (n.op.kind !== 'CreateContainer') continue;
    delete n.op.spec.labels[Label.configHash];
    delete n.op.spec.labels[Label.configFields];
  }
  return JSON.stringify({ acts, builds, nodes }).replaceAll(dir, '<dir>');
}

describe('every classified property is checked', () => {
  it('has a sample for every entry of the table', () => {
    expect(Object.keys(SERVICE_SUPPORT).filter((p) => !SAMPLES[p] && !UP_LEVEL.includes(p))).toEqual([]);
  });

  const byVerdict = (v: string) => Object.keys(SERVICE_SUPPORT).filter((p) => SERVICE_SUPPORT[p]!.verdict === v && !UP_LEVEL.includes(p));

  it.each(byVerdict('honoured'))('honoured: %s changes what the planner asks the engine for', async (path) => {
    const s = SAMPLES[path]!;
    const [before, after] = [await effect(composeText(s, true), s.files), await effect(composeText(s, false), s.files)];
    expect(after).not.toBe(before);
    // …and the native engine has nothing to say against it.
    const { project } = await load(composeText(s, false), { files: s.files });
    expect(findingsOf(project.services.a!, 'native').map((f) => f.path)).toEqual([]);
  });

  it.each(byVerdict('refused'))('refused: %s stops up before anything is created, with its sentence', async (path) => {
    const s = SAMPLES[path]!;
    const verdict = SERVICE_SUPPORT[path]!;
    if (verdict.verdict !== 'refused') throw new Error('unreachable');
    const { project } = await load(composeText(s, false), { files: s.files });
    expect(findingsOf(project.services.a!, 'native').filter((f) => f.verdict === 'refused').map((f) => f.path)).toEqual([path]);
    expect(() => checkSupport(project, 'native', ['a'])).toThrow(`service a: ${verdict.sentence} (${verdict.fix})`);
    // What only the native engine cannot do passes on Docker.
    if (verdict.on === 'native') expect(() => checkSupport(project, 'docker', ['a'])).not.toThrow();
  });

  it.each(byVerdict('warned'))('warned: %s is reported as not applied', async (path) => {
    const s = SAMPLES[path]!;
    const verdict = SERVICE_SUPPORT[path]!;
    if (verdict.verdict !== 'warned') throw new Error('unreachable');
    const { project } = await load(composeText(s, false), { files: s.files });
    expect(checkSupport(project, 'native', ['a'])).toEqual([`service a: ${verdict.sentence}`]);
  });

  it('honours the values a refusal does not cover (uts: host, cgroup: private, logging max-size alone, well-formed device rules)', async () => {
    const { project } = await load(composeText(S('pid: private\nipc: shareable\nuts: host\ncgroup: private\nlogging: { driver: json-file, options: { max-size: 10k, max-file: "2" } }\ndevice_cgroup_rules: ["c 1:3 mr", "a *:* rwm"]'), false));
    expect(checkSupport(project, 'native', ['a'])).toEqual([]);
    const create = reconcile(project, new FakeWorld().observe(project), {}).nodes.find((n) => n.op.kind === 'CreateContainer')!;
    expect(create.op.kind === 'CreateContainer' && create.op.spec.logging).toEqual({ driver: 'json-file', options: { 'max-size': '10k', 'max-file': '2' } });
    expect(create.op.kind === 'CreateContainer' && create.op.spec.resources?.deviceCgroupRules).toEqual(['c 1:3 mr', 'a *:* rwm']);
  });

  it('names every refused property of every service at once, and only of the services up starts', async () => {
    const { project } = await load('services:\n  a: { image: busybox, gpus: all, mac_address: 02:42:ac:11:00:02 }\n  b: { image: busybox, pre_start: [{ command: [x] }] }\n  c: { image: busybox, storage_opt: { size: 1G } }\n');
    expect(() => checkSupport(project, 'native', ['a', 'b'])).toThrow(/service a: gpus.*\nservice a: mac_address.*\nservice b: pre_start/s);
    expect(() => checkSupport(project, 'native', ['c'])).toThrow(/^service c: storage_opt/);
  });
});

describe('the README', () => {
  it('lists every warned property in its table of warned fields', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('Warned (not applied):'), readme.indexOf('## Logs and a full disk'));
    const listed = new Set([...table.matchAll(/`([a-z_.\[\]<>-]+)`/g)].map((m) => m[1]!.replace('volumes[]', 'volumes.*')));
    const warned = Object.keys(SERVICE_SUPPORT).filter((p) => SERVICE_SUPPORT[p]!.verdict === 'warned');
    expect(warned.filter((p) => !listed.has(p))).toEqual([]);
  });
});
