import { describe, expect, it } from 'vitest';
import { brief, load, loadErrors } from './helpers.js';

/** Loads compose.yaml with override.yaml merged over it and returns service `web`. */
async function merged(base: string, override: string, name = 'web') {
  const { project, warnings } = await load(base, { files: { 'override.yaml': override }, configFiles: ['compose.yaml', 'override.yaml'] });
  return { service: project.services[name]!, project, warnings };
}

describe('multi-file merge', () => {
  it('replaces scalars, merges mappings by key and appends lists', async () => {
    const { service } = await merged(
      'services:\n  web:\n    image: a\n    cap_add: [NET_ADMIN]\n    expose: ["80"]\n    deploy: {replicas: 1, labels: {a: "1"}}\n',
      'services:\n  web:\n    image: b\n    cap_add: [SYS_TIME]\n    expose: ["81"]\n    deploy: {labels: {b: "2"}}\n',
    );
    expect(service.image).toBe('b');
    expect(service.cap_add).toEqual(['NET_ADMIN', 'SYS_TIME']);
    expect(service.expose).toEqual(['80', '81']);
    expect(service.deploy?.replicas).toBe(1);
    expect(service.deploy?.labels).toEqual({ a: '1', b: '2' });
  });

  it('replaces command, entrypoint and healthcheck.test instead of appending', async () => {
    const { service } = await merged(
      'services:\n  web:\n    image: a\n    command: [a, b]\n    entrypoint: [x]\n    healthcheck: {test: [CMD, a], interval: 5s}\n',
      'services:\n  web:\n    command: c\n    entrypoint: [y, z]\n    healthcheck: {test: [CMD, b]}\n',
    );
    expect(service.command).toEqual(['c']);
    expect(service.entrypoint).toEqual(['y', 'z']);
    expect(service.healthcheck).toMatchObject({ test: ['CMD', 'b'], interval: 5000 });
  });

  it('merges environment, labels and build args by key whatever form each file uses', async () => {
    const { service } = await merged(
      'services:\n  web:\n    build: {context: ., args: [A=1, B=2]}\n    environment: [X=1, Y=2, Z]\n    labels: {l1: a, l2: b}\n',
      'services:\n  web:\n    build: {args: {B: "3"}}\n    environment: {Y: "override", W: w}\n    labels: [l2=c, l3]\n',
    );
    expect(service.environment).toEqual({ X: '1', Y: 'override', Z: null, W: 'w' });
    expect(service.labels).toEqual({ l1: 'a', l2: 'c', l3: '' });
    expect(service.build?.args).toEqual({ A: '1', B: '3' });
  });

  it('turns the list forms of depends_on and networks into mappings before merging', async () => {
    const { service } = await merged(
      'services:\n  web:\n    image: a\n    depends_on: [db]\n    networks: [front]\n  db: {image: d, healthcheck: {test: "true"}}\nnetworks: {front: {}, back: {}}\n',
      'services:\n  web:\n    depends_on: {db: {condition: service_healthy}}\n    networks: {back: {aliases: [w]}}\n',
    );
    expect(service.depends_on).toEqual({ db: { condition: 'service_healthy', required: true, restart: false } });
    expect(service.networks).toEqual({ front: null, back: { aliases: ['w'] } });
  });

  it('build: ./dir merges with a long-form build', async () => {
    const { service, project } = await merged('services:\n  web:\n    build: ./app\n', 'services:\n  web:\n    build: {dockerfile: Dockerfile.dev}\n');
    expect(service.build).toMatchObject({ context: `${project.workingDir}/app`, dockerfile: 'Dockerfile.dev' });
  });

  it('merges logging options only when the driver is the same', async () => {
    const same = await merged(
      'services:\n  web:\n    image: a\n    logging: {driver: json-file, options: {max-size: 1m}}\n',
      'services:\n  web:\n    logging: {options: {max-file: "3"}}\n',
    );
    expect(same.service.logging).toEqual({ driver: 'json-file', options: { 'max-size': '1m', 'max-file': '3' } });
    const other = await merged(
      'services:\n  web:\n    image: a\n    logging: {driver: json-file, options: {max-size: 1m}}\n',
      'services:\n  web:\n    logging: {driver: syslog, options: {tag: web}}\n',
    );
    expect(other.service.logging).toEqual({ driver: 'syslog', options: { tag: 'web' } });
  });

  it('keeps one entry per mount target, port mapping, env file and secret target (unicity)', async () => {
    const { service } = await merged(
      [
        'services:',
        '  web:',
        '    image: a',
        '    volumes: [data:/data, ./logs:/logs]',
        '    ports: ["80:80", "443:443"]',
        '    secrets: [s1]',
        'volumes: {data: {}, other: {}}',
        'secrets: {s1: {file: ./s1}, s2: {file: ./s2}}',
      ].join('\n'),
      'services:\n  web:\n    volumes: [{type: volume, source: other, target: /data}]\n    ports: ["80:80"]\n    secrets: [{source: s2, target: s1}]\n',
    );
    expect(service.volumes.map((v) => `${v.source}:${v.target}`)).toEqual(['other:/data', `${service.volumes[1]!.source}:/logs`]);
    expect(service.ports.map((p) => `${p.published}:${p.target}`)).toEqual(['80:80', '443:443']);
    expect(service.secrets).toEqual([{ source: 's2', target: '/run/secrets/s1' }]);
  });

  it('extra_hosts appends only new entries; ulimits replace per name; ipam pools merge by subnet', async () => {
    const { service, project } = await merged(
      [
        'services:',
        '  web:',
        '    image: a',
        '    extra_hosts: ["a=10.0.0.1"]',
        '    ulimits: {nofile: {soft: 10, hard: 20}, nproc: 5}',
        '    networks: [n]',
        'networks:',
        '  n: {ipam: {config: [{subnet: 10.5.0.0/16, gateway: 10.5.0.1}]}}',
      ].join('\n'),
      [
        'services:',
        '  web:',
        '    extra_hosts: {a: 10.0.0.1, b: 10.0.0.2}',
        '    ulimits: {nofile: 30}',
        'networks:',
        '  n: {ipam: {config: [{subnet: 10.5.0.0/16, ip_range: 10.5.1.0/24}, {subnet: 10.6.0.0/16}]}}',
      ].join('\n'),
    );
    expect(service.extra_hosts).toEqual({ a: ['10.0.0.1'], b: ['10.0.0.2'] });
    expect(service.ulimits).toEqual({ nofile: { soft: 30, hard: 30 }, nproc: { soft: 5, hard: 5 } });
    expect(project.networks.n!.ipam.config).toEqual([
      { subnet: '10.5.0.0/16', gateway: '10.5.0.1', ip_range: '10.5.1.0/24' },
      { subnet: '10.6.0.0/16' },
    ]);
  });

  it('!reset removes what earlier files set, and !override replaces it wholesale', async () => {
    const { service } = await merged(
      'services:\n  web:\n    image: a\n    ports: ["80:80"]\n    environment: {A: "1", B: "2"}\n    labels: {x: "1"}\n    user: root\n',
      'services:\n  web:\n    ports: !reset []\n    environment: !override {C: "3"}\n    labels: !reset {}\n    user: !reset null\n',
    );
    expect(service.ports).toEqual([]);
    expect(service.environment).toEqual({ C: '3' });
    expect(service.labels).toEqual({});
    expect(service.user).toBeUndefined();
  });

  it('!reset in the only file removes the attribute; !override there is a plain value', async () => {
    const { project } = await load('services:\n  web:\n    image: a\n    ports: !reset ["80"]\n    expose: !override ["90"]\n');
    expect(project.services.web!.ports).toEqual([]);
    expect(project.services.web!.expose).toEqual(['90']);
  });

  it('merges several YAML documents of one file like several files', async () => {
    const { project } = await load('services:\n  web: {image: a, expose: ["1"]}\n---\nservices:\n  web: {image: b, expose: ["2"]}\n');
    expect(project.services.web).toMatchObject({ image: 'b', expose: ['1', '2'] });
  });

  it('reports an override that changes a mapping into a list, at the override', async () => {
    const errors = await loadErrors('services:\n  web:\n    image: a\n    deploy: {labels: {a: b}}\n    configs: [c]\nconfigs: {c: {file: ./c}}\n', {
      files: { 'override.yaml': 'services:\n  web:\n    configs: {c: {}}\n' },
      configFiles: ['compose.yaml', 'override.yaml'],
    });
    expect(brief(errors)[0]).toMatch(/^3:14: services\.web\.configs: cannot merge a mapping into a list defined at line 5 of .*compose\.yaml/);
    expect(errors[0]!.file).toMatch(/override\.yaml$/);
  });

  it('validation errors point into the file that brought the value', async () => {
    const errors = await loadErrors('services:\n  web:\n    image: a\n', {
      files: { 'override.yaml': 'services:\n  web:\n    privileged: sometimes\n    enviroment: {}\n' },
      configFiles: ['compose.yaml', 'override.yaml'],
    });
    expect(errors.map((e) => `${e.file.split('/').pop()}:${e.line}:${e.col}`)).toEqual(['override.yaml:3:17', 'override.yaml:4:5']);
  });
});
