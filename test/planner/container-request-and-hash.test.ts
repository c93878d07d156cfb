import { describe, expect, it } from 'vitest';
import { canonicalJson, changedFields, fieldDigests, serviceHash, serviceHashInput } from '../../src/planner/hash.js';
import { containerRequest, fileTarget } from '../../src/planner/container-request.js';
import { emptyObservedState } from '../../src/planner/observed.js';
import { project, service, volume } from './fixtures.js';

const inputs = { imageId: 'sha256:aaa', contentDigests: {} };

describe('config hash', () => {
  it('is canonical: key order and unset-vs-empty never change it', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: undefined } })).toBe('{"a":{"d":[2,1]},"b":1}');
    const p = project('h', [service('a', { environment: { X: '1', Y: '2' } })]);
    const q = project('h', [service('a', { environment: { Y: '2', X: '1' } })]);
    expect(serviceHash(p, p.services.a!, inputs)).toBe(serviceHash(q, q.services.a!, inputs));
  });

  it('leaves out what does not change the container (build, scale, replicas, depends_on, profiles, env_file paths)', () => {
    const base = project('h', [service('a')]);
    const h = serviceHash(base, base.services.a!, inputs);
    const other = project('h', [
      service('a', {
        scale: 3,
        profiles: ['x'],
        depends_on: { b: { condition: 'service_started', required: true, restart: false } },
        env_file: [{ path: '/moved/.env', required: true }],
        pull_policy: 'always',
      }),
    ]);
    expect(serviceHash(other, other.services.a!, inputs)).toBe(h);
  });

  it('holds the image id, the resolved environment and config/secret content', () => {
    const p = project('h', [service('a', { environment: { FROM_SHELL: null }, secrets: [{ source: 's' }] })]);
    const h = (env: Record<string, string>, imageId: string, s: string) =>
      serviceHash({ ...p, environment: env }, p.services.a!, { imageId, contentDigests: { 'secret:s': s } });
    const base = h({ FROM_SHELL: 'x' }, 'sha256:1', 'd1');
    expect(h({ FROM_SHELL: 'y' }, 'sha256:1', 'd1')).not.toBe(base);
    expect(h({ FROM_SHELL: 'x' }, 'sha256:2', 'd1')).not.toBe(base);
    expect(h({ FROM_SHELL: 'x' }, 'sha256:1', 'd2')).not.toBe(base);
    expect(h({ FROM_SHELL: 'x' }, 'sha256:1', 'd1')).toBe(base);
  });

  it('names the fields that changed', () => {
    const a = project('h', [service('a', { environment: { A: '1', B: '2' }, ports: [] })]);
    const b = project('h', [service('a', { environment: { A: '1', B: '3', C: '4' }, ports: [{ target: 80, protocol: 'tcp', mode: 'ingress' }] })]);
    const before = fieldDigests(serviceHashInput(a, a.services.a!, inputs));
    const after = fieldDigests(serviceHashInput(b, b.services.a!, inputs));
    expect(changedFields(before, after)).toEqual(['environment.B', 'environment.C', 'ports']);
    expect(changedFields(undefined, after)).toEqual([]);
  });
});

describe('container spec', () => {
  it('carries Compose\'s labels, names, aliases, mounts and settings', () => {
    const p = project('shop', [
      service('web', {
        image: 'nginx:1',
        command: ['nginx', '-g', 'daemon off;'],
        environment: { A: '1', UNSET: null },
        labels: { team: 'x' },
        ports: [{ target: 80, published: '8080', host_ip: '127.0.0.1', protocol: 'tcp', mode: 'ingress' }],
        volumes: [
          { type: 'volume', source: 'data', target: '/data', read_only: false },
          { type: 'volume', target: '/anon', read_only: false },
          { type: 'bind', source: '/srv/shop/conf', target: '/conf', read_only: true, bind: { create_host_path: true } },
        ],
        secrets: [{ source: 'token' }],
        configs: [{ source: 'site', target: '/etc/site.conf', mode: 0o440 }],
        restart: 'on-failure:3',
        stop_grace_period: 2500,
        healthcheck: { test: ['CMD', 'true'], interval: 1000, disable: false },
        init: true,
        mem_limit: 64 * 1024 * 1024,
        cpus: 0.5,
        depends_on: { db: { condition: 'service_healthy', required: true, restart: true } },
      }),
    ], { volumes: { data: volume('shop_data') } });
    const observed = emptyObservedState('shop');
    observed.contents['secret:token'] = { digest: 'd', content: Buffer.from('t'), file: '/srv/shop/token.txt' };
    observed.contents['config:site'] = { digest: 'e', content: Buffer.from('site'), file: '/srv/shop/site.conf' };
    const s = containerRequest(p, p.services.web!, observed, { number: 2, name: 'shop-web-2', configHash: 'h', fieldDigests: 'f', imageId: 'sha256:i' });
    expect(s.labels).toMatchObject({
      team: 'x',
      'com.docker.compose.project': 'shop',
      'com.docker.compose.service': 'web',
      'com.docker.compose.container-number': '2',
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.config-hash': 'h',
      'com.docker.compose.image': 'sha256:i',
      'com.docker.compose.depends_on': 'db:service_healthy:true',
      'com.docker.compose.project.working_dir': '/srv/shop',
      'com.docker.compose.project.config_files': '/srv/shop/compose.yaml',
    });
    expect(s.env).toEqual({ A: '1' });
    expect(s.networks).toEqual([{ network: 'shop_default', aliases: ['shop-web-2', 'web'] }]);
    expect(s.ports).toEqual([{ target: 80, published: '8080', hostIp: '127.0.0.1', protocol: 'tcp' }]);
    expect(s.mounts).toEqual([
      { type: 'volume', source: 'shop_data', target: '/data', readOnly: false, noCopy: undefined, subpath: undefined },
      { type: 'volume', source: '', target: '/anon', readOnly: false, noCopy: undefined, subpath: undefined },
      { type: 'bind', source: '/srv/shop/conf', target: '/conf', readOnly: true, propagation: undefined, createHostPath: true },
      { type: 'bind', source: '/srv/shop/token.txt', target: '/run/secrets/token', readOnly: true },
    ]);
    // A mode asks for a copied file, not a bind mount.
    expect(s.files).toEqual([{ target: '/etc/site.conf', content: Buffer.from('site'), mode: 0o440, uid: undefined, gid: undefined }]);
    expect(s.restart).toEqual({ name: 'on-failure', maxRetries: 3 });
    expect(s.stopTimeout).toBe(3);
    // No start_interval under a 1 s interval: probing while starting follows the interval, not the engine's 5 s.
    expect(s.healthcheck).toEqual({ test: ['CMD', 'true'], interval: 1000, timeout: undefined, retries: undefined, startPeriod: undefined, startInterval: 1000 });
    expect(s.resources).toMatchObject({ memory: 64 * 1024 * 1024, nanoCpus: 500_000_000 });
    expect(s.init).toBe(true);
    expect(s.cmd).toEqual(['nginx', '-g', 'daemon off;']);
    expect(s.entrypoint).toBeUndefined();
  });

  it('gives a healthcheck without start_interval the interval as its start interval when it is under the engine\'s 5 s, else leaves it to the engine', () => {
    const startInterval = (healthcheck: Record<string, unknown>, image?: Record<string, unknown>) => {
      const p = project('hc', [service('db', { image: 'db:1', healthcheck: { test: ['CMD', 'true'], disable: false, ...healthcheck } })]);
      const observed = emptyObservedState('hc');
      if (image) observed.images['db:1'] = { id: 'sha256:i', config: { entrypoint: [], cmd: [], env: [], workingDir: '', user: '', exposedPorts: [], volumes: [], labels: {}, healthcheck: { test: ['CMD', 'x'], ...image } } };
      return containerRequest(p, p.services.db!, observed, { number: 1, name: 'hc-db-1', configHash: 'h', fieldDigests: 'f', imageId: 'sha256:i' }).healthcheck?.startInterval;
    };
    // The WordPress example's database: interval 2s, start_period 60s. Docker 25 would probe every 5 s while it starts.
    expect(startInterval({ interval: 2000, start_period: 60_000 })).toBe(2000);
    // Given in the file: as given, whatever the interval.
    expect(startInterval({ interval: 2000, start_interval: 500 })).toBe(500);
    expect(startInterval({ interval: 60_000, start_interval: 10_000 })).toBe(10_000);
    // An interval of 5 s or more (or none: 30 s): the engine's 5 s, as on Docker 25.
    expect(startInterval({ interval: 5000 })).toBeUndefined();
    expect(startInterval({ interval: 60_000, start_period: 30_000 })).toBeUndefined();
    expect(startInterval({})).toBeUndefined();
    // The image's interval counts when the file gives none; the image's own start interval wins, as in Docker's merge.
    expect(startInterval({}, { interval: 1000 })).toBe(1000);
    expect(startInterval({ interval: 2000 }, { startInterval: 300 })).toBeUndefined();
    // A disabled healthcheck stays disabled.
    expect(startInterval({ disable: true, interval: 1000 })).toBeUndefined();
  });

  it('puts secrets under /run/secrets and configs at /<name> unless told otherwise', () => {
    expect(fileTarget('secret', { source: 'db_pw' })).toBe('/run/secrets/db_pw');
    expect(fileTarget('secret', { source: 'db_pw', target: 'pw' })).toBe('/run/secrets/pw');
    expect(fileTarget('secret', { source: 'db_pw', target: '/etc/pw' })).toBe('/etc/pw');
    expect(fileTarget('config', { source: 'nginx' })).toBe('/nginx');
    expect(fileTarget('config', { source: 'nginx', target: '/etc/nginx.conf' })).toBe('/etc/nginx.conf');
  });

  it('network_mode and volumes_from point at the other service\'s first container; one-off containers get no service alias', () => {
    const p = project('ns', [service('vpn'), service('app', { network_mode: 'service:vpn', volumes_from: ['vpn:ro'] }), service('job')]);
    const o = emptyObservedState('ns');
    const app = containerRequest(p, p.services.app!, o, { number: 1, name: 'ns-app-1', configHash: '', fieldDigests: '', imageId: '' });
    expect(app.networkMode).toBe('container:ns-vpn-1');
    expect(app.networks).toBeUndefined();
    expect(app.volumesFrom).toEqual(['ns-vpn-1:ro']);
    const run = containerRequest(p, p.services.job!, o, { number: 1, name: 'ns-job-run-1', configHash: '', fieldDigests: '', imageId: '', oneoff: true });
    expect(run.labels['com.docker.compose.oneoff']).toBe('True');
    expect(run.networks![0]!.aliases).toEqual(['ns-job-run-1']);
  });
});
