import { describe, expect, it } from 'vitest';
import { brief, load, loadErrors } from './helpers.js';

describe('semantic checks', () => {
  it('references to undeclared networks, volumes, configs and secrets, with suggestions', async () => {
    const errors = await loadErrors(
      [
        'services:',
        '  web:',
        '    image: x',
        '    networks: [frontend, other]',
        '    volumes: ["dbdata:/data"]',
        '    configs: [nginx]',
        '    secrets: [token]',
        'networks: {front: {}}',
        'volumes: {db_data: {}}',
      ].join('\n'),
    );
    expect(brief(errors)).toEqual([
      '4:16: service "web" refers to undefined network "frontend" (declared: front)',
      '4:26: service "web" refers to undefined network "other" (declared: front)',
      '5:15: service "web" refers to undefined volume "dbdata"; did you mean "db_data"?',
      '6:15: service "web" refers to undefined config "nginx"; declare it under the top-level `configs:`',
      '7:15: service "web" refers to undefined secret "token"; declare it under the top-level `secrets:`',
    ]);
  });

  it('undefined services in depends_on, links, volumes_from and service: namespaces', async () => {
    const errors = await loadErrors(
      [
        'services:',
        '  web:',
        '    image: x',
        '    depends_on: {dbb: {condition: service_started}}',
        '    links: [cache]',
        '    volumes_from: [data]',
        '    network_mode: service:vpn',
        '  db: {image: d}',
      ].join('\n'),
    );
    expect(brief(errors)).toEqual([
      '4:18: service "web" depends on undefined service "dbb"; did you mean "db"?',
      '5:13: service "web" links to undefined service "cache"',
      '6:20: service "web" takes volumes from undefined service "data"',
      '7:19: service "web" shares the network namespace of undefined service "vpn"',
    ]);
  });

  it('dependency cycles print their path; self-dependency too', async () => {
    expect(brief(await loadErrors('services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  c: {image: x, depends_on: [a]}\n'))).toEqual([
      '2:30: dependency cycle: a -> b -> c -> a',
    ]);
    expect(brief(await loadErrors('services:\n  a:\n    image: x\n    depends_on: [a]\n'))).toEqual(['4:18: service "a" depends on itself (depends on)']);
    // Implicit edges count: a link one way and depends_on the other is a cycle.
    expect(brief(await loadErrors('services:\n  a: {image: x, links: [b]}\n  b:\n    image: x\n    depends_on:\n      a: {condition: service_started}\n'))[0]).toMatch(
      /dependency cycle: a -> b -> a$/,
    );
  });

  it('a service needs an image or a build; container names are unique', async () => {
    expect(brief(await loadErrors('services:\n  web:\n    restart: always\n'))).toEqual([
      '2:3: service "web" has neither an image nor a build context; add `image:` or `build:`',
    ]);
    expect(brief(await loadErrors('services:\n  a: {image: x, container_name: app}\n  b:\n    image: x\n    container_name: app\n'))).toEqual([
      '5:21: container_name "app" is already used by service "a"; container names must be unique',
    ]);
  });

  it('settings that exclude each other', async () => {
    const errors = await loadErrors(
      [
        'services:',
        '  a: {image: x, network_mode: host, networks: [n]}',
        '  b: {image: x, scale: 2, deploy: {replicas: 3}}',
        '  c: {image: x, scale: 2, container_name: cc}',
        '  d: {image: x, mem_limit: 1g, deploy: {resources: {limits: {memory: 2g}}}}',
        '  e: {image: x, volumes: ["v:/data"], tmpfs: [/data]}',
        'networks: {n: {}}',
        'volumes: {v: {}}',
      ].join('\n'),
    );
    expect(brief(errors)).toEqual([
      '2:17: service "a" sets both network_mode and networks; they exclude each other',
      '3:17: service "b" sets scale 2 and deploy.replicas 3; keep one',
      '4:27: service "c" has container_name and 2 replicas, but a container name must be unique; drop container_name',
      '5:17: service "d" sets mem_limit and deploy.resources.limits.memory to different values; keep one',
      '6:27: /data is mounted twice (also by tmpfs[0])',
    ]);
  });

  it('fixed addresses outside their subnet (a host port published twice is up\'s to refuse, not the loader\'s)', async () => {
    const errors = await loadErrors(
      [
        'services:',
        '  a: {image: x, ports: ["8080:80"]}',
        '  b: {image: x, ports: ["8080:81"]}',
        '  c:',
        '    image: x',
        '    networks:',
        '      n: {ipv4_address: 10.9.0.5}',
        'networks:',
        '  n: {ipam: {config: [{subnet: 10.8.0.0/16}]}}',
      ].join('\n'),
    );
    expect(brief(errors)).toEqual([
      '7:25: ipv4_address 10.9.0.5 is outside the subnet(s) of network "n" (10.8.0.0/16)',
    ]);
  });

  it('external resources cannot carry creation settings; configs and secrets need one source', async () => {
    const errors = await loadErrors(
      [
        'services:',
        '  a: {image: x, networks: [n], volumes: ["v:/v"], configs: [c1, c2], secrets: [s]}',
        'networks:',
        '  n: {external: true, driver: overlay}',
        'volumes:',
        '  v: {external: true, driver_opts: {a: b}}',
        'configs:',
        '  c1: {file: ./a, content: b}',
        '  c2: {}',
        'secrets:',
        '  s: {labels: {a: b}}',
      ].join('\n'),
    );
    expect(brief(errors)).toEqual([
      '4:23: network "n" is external (created outside this project), so `driver` cannot be set; remove it or drop external',
      '6:23: volume "v" is external (created outside this project), so `driver_opts` cannot be set; remove it or drop external',
      '8:7: config "c1" sets file and content; set exactly one of file, environment, content',
      '9:3: config "c2" needs one of file, environment, content (or external: true)',
      '11:3: secret "s" needs one of file, environment (or external: true)',
    ]);
  });

  it('a service_healthy dependency on a service without healthcheck is a warning, not an error', async () => {
    const { warnings } = await load('services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: service_healthy}\n  db: {image: d}\n');
    expect(warnings).toEqual([expect.stringMatching(/compose\.yaml:5:7: service "web" waits for "db" to be healthy, but "db" declares no healthcheck/)]);
  });
});

describe('profiles', () => {
  const file = [
    'services:',
    '  web: {image: x}',
    '  debug: {image: x, profiles: [debug]}',
    '  tools: {image: x, profiles: [tools, debug], depends_on: [web]}',
    '  needs-debug: {image: x, profiles: [extra], depends_on: [debug]}',
  ].join('\n');

  it('services without profiles are always on; others when one of their profiles is active', async () => {
    expect(Object.keys((await load(file)).project.services)).toEqual(['web']);
    const { project } = await load(file, { profiles: ['tools'] });
    expect(Object.keys(project.services).sort()).toEqual(['tools', 'web']);
    expect(Object.keys(project.disabledServices).sort()).toEqual(['debug', 'needs-debug']);
    expect(Object.keys((await load(file, { environment: { COMPOSE_PROFILES: 'debug, extra' } })).project.services).sort()).toEqual([
      'debug',
      'needs-debug',
      'tools',
      'web',
    ]);
    expect(Object.keys((await load(file, { profiles: ['*'] })).project.services)).toHaveLength(4);
  });

  it('depending on a disabled service says which profile enables it', async () => {
    expect(brief(await loadErrors(file, { profiles: ['extra'] }))).toEqual([
      '5:59: service "needs-debug" depends on service "debug", which is disabled by its profiles (debug); enable one with --profile debug',
    ]);
  });

  it('an optional dependency (required: false) on a disabled service is fine', async () => {
    const { project } = await load('services:\n  web:\n    image: x\n    depends_on:\n      dbg: {condition: service_started, required: false}\n  dbg: {image: y, profiles: [debug]}\n');
    expect(Object.keys(project.services)).toEqual(['web']);
  });

  it('naming services selects them and what they need, whatever their profiles', async () => {
    const { project } = await load(file, { services: ['tools'] });
    expect(Object.keys(project.services).sort()).toEqual(['tools', 'web']);
  });

  it('drops networks and volumes no enabled service uses', async () => {
    const { project } = await load('services:\n  a: {image: x, volumes: ["v1:/v"], profiles: [p]}\n  b: {image: x}\nvolumes: {v1: {}, v2: {}}\nnetworks: {unused: {}}\n');
    expect(Object.keys(project.volumes)).toEqual([]);
    expect(Object.keys(project.networks)).toEqual(['default']);
  });
});
