import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadProject } from '../../src/project/load.js';
import { projectToPlain } from '../../src/project/serialize.js';
import type { Project } from '../../src/project/types.js';
import { CORPUS } from '../support/corpus.js';
import { load, projectDir } from './helpers.js';


/** What `config` prints must load again to the same project (env files are already folded into environment). */
async function roundTrip(project: Project): Promise<Project> {
  const text = stringify(projectToPlain(project), { indent: 2, lineWidth: 0, aliasDuplicateObjects: false });
  const dir = projectDir({ 'compose.yaml': text }, 'again');
  return loadProject({
    cwd: dir,
    configFiles: [join(dir, 'compose.yaml')],
    projectDirectory: project.workingDir,
    environment: {},
    onWarning: () => {},
    keepUnusedResources: true,
  });
}

function comparable(p: Project) {
  const services = Object.fromEntries(
    Object.entries(p.services).map(([n, s]) => {
      const { env_file: _e, label_file: _l, ...rest } = s;
      return [n, rest];
    }),
  );
  return { name: p.name, services, networks: p.networks, volumes: p.volumes, configs: p.configs, secrets: p.secrets, extensions: p.extensions };
}

const RICH = `
name: rich
x-common: &common
  restart: unless-stopped
  labels: {tier: app}
services:
  web:
    <<: *common
    build:
      context: ./web
      args: [VERSION=1.2]
      shm_size: 128m
    image: registry.local/web:1.2
    command: npm run start -- --port 3000
    entrypoint: ["/sbin/tini", "--"]
    environment:
      PRICE: "5$$"
      EMPTY: ""
    ports: ["127.0.0.1:3000:3000", "9000-9001:9000-9001/udp", {target: 4000, published: "4000-4010", mode: host}]
    volumes: [./static:/static:ro, cache:/cache, {type: tmpfs, target: /tmp, tmpfs: {size: 1m, mode: 0o1777}}]
    networks:
      front: {aliases: [www], ipv4_address: 10.10.0.5, priority: 10}
      back:
    depends_on:
      db: {condition: service_healthy, restart: true}
      cache: {condition: service_started, required: false}
    healthcheck: {test: curl -f http://localhost:3000, interval: 1m30s, timeout: 500ms, retries: 3, start_period: 1h}
    stop_grace_period: 1m
    ulimits: {nofile: {soft: 1024, hard: 2048}}
    extra_hosts: {host.internal: host-gateway}
    configs: [{source: app, target: /etc/app.conf, mode: 0440}]
    secrets: [token]
    deploy: {resources: {limits: {cpus: "0.5", memory: 512m}}, restart_policy: {condition: on-failure, delay: 5s}}
    x-custom: {keep: me}
  db:
    image: postgres:16
    healthcheck: {test: [CMD, pg_isready], interval: 5s}
    volumes: [data:/var/lib/postgresql/data]
    networks: [back]
  cache:
    image: redis
    network_mode: service:db
networks:
  front: {ipam: {config: [{subnet: 10.10.0.0/24}]}}
  back: {internal: true, labels: [a=b]}
volumes:
  data: {}
  cache: {name: shared-cache, external: true}
configs:
  app: {content: "listen = 80"}
secrets:
  token: {environment: TOKEN}
x-top: {a: 1}
`;

describe('config output', () => {
  it('round-trips a project that uses most of the format', async () => {
    const { project } = await load(RICH, { files: { 'web/.keep': '' } });
    const again = await roundTrip(project);
    expect(comparable(again)).toEqual(comparable(project));
  });

  it('prints durations, sizes and modes as Compose does, and doubles $', async () => {
    const { project } = await load(RICH, { files: { 'web/.keep': '' } });
    const text = stringify(projectToPlain(project), { indent: 2, lineWidth: 0 });
    expect(text).toContain('interval: 1m30s');
    expect(text).toContain('start_period: 1h0m0s');
    expect(text).toContain('timeout: 500ms');
    expect(text).toContain('memory: "536870912"');
    expect(text).toContain('mode: "0440"');
    expect(text).toContain('PRICE: 5$$');
    expect(text.indexOf('name: rich')).toBe(0);
  });

  it.each(readdirSync(CORPUS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name))(
    'round-trips corpus project %s',
    async (name) => {
      const project = await loadProject({ cwd: join(CORPUS, name), environment: {}, onWarning: () => {} });
      expect(comparable(await roundTrip(project))).toEqual(comparable(project));
    },
  );
});
