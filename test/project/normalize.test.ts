import { describe, expect, it } from 'vitest';
import { parsePortString, PortSyntaxError } from '../../src/project/syntax/ports.js';
import { formatDuration, parseBytes, parseDuration } from '../../src/project/syntax/units.js';
import { parseVolumeString } from '../../src/project/syntax/volumes.js';
import { splitShellWords } from '../../src/project/syntax/shellwords.js';
import { brief, load, loadErrors } from './helpers.js';

async function service(yaml: string, files: Record<string, string> = {}) {
  const { project, dir } = await load(`services:\n  web:\n    image: x\n${yaml}`, { files });
  return { s: project.services.web!, project, dir };
}

describe('short syntax parsers', () => {
  it('ports: every short form to one entry per port', () => {
    const p = (spec: string) => parsePortString(spec).map((x) => [x.host_ip ?? '', x.published ?? '', x.target, x.protocol].join(' '));
    expect(p('80')).toEqual(['  80 tcp']);
    expect(p('8080:80')).toEqual([' 8080 80 tcp']);
    expect(p('127.0.0.1:8080:80/udp')).toEqual(['127.0.0.1 8080 80 udp']);
    expect(p('127.0.0.1::80')).toEqual(['127.0.0.1  80 tcp']);
    expect(p('[::1]:8080:80')).toEqual(['::1 8080 80 tcp']);
    expect(p('8000-8002:9000-9002')).toEqual([' 8000 9000 tcp', ' 8001 9001 tcp', ' 8002 9002 tcp']);
    expect(p('8000-8010:80')).toEqual([' 8000-8010 80 tcp']);
    expect(p('3000-3001')).toEqual(['  3000 tcp', '  3001 tcp']);
    expect(p('53:53/SCTP')).toEqual([' 53 53 sctp']);
  });

  it('ports: rejects bad numbers, ranges, protocols and addresses', () => {
    const bad = (spec: string) => {
      try {
        parsePortString(spec);
      } catch (err) {
        if (err instanceof PortSyntaxError) return err.message;
        throw err;
      }
      return 'accepted';
    };
    expect(bad('70000:80')).toMatch(/host port 70000 is out of range/);
    expect(bad('80:0')).toMatch(/container port 0 is out of range/);
    expect(bad('8000-8001:90-92')).toMatch(/different sizes/);
    expect(bad('90-80')).toMatch(/ends before it starts/);
    expect(bad('80/tcpp')).toMatch(/unknown protocol "tcpp"/);
    expect(bad('300.1.1.1:80:80')).toMatch(/"300.1.1.1" is not an IP address/);
    expect(bad('http')).toMatch(/"http" is not a container port/);
  });

  it('volumes: host paths are binds, names are volumes, no source is anonymous', () => {
    expect(parseVolumeString('/data')).toMatchObject({ type: 'volume', target: '/data' });
    expect(parseVolumeString('db:/var/lib/db:ro,nocopy')).toMatchObject({ type: 'volume', source: 'db', read_only: true, nocopy: true });
    expect(parseVolumeString('./src:/app:z,rshared')).toMatchObject({ type: 'bind', source: './src', selinux: 'z', propagation: 'rshared' });
    expect(parseVolumeString('~/.ssh:/root/.ssh')).toMatchObject({ type: 'bind', source: '~/.ssh' });
    expect(parseVolumeString('${DIR:-/x}:/y')).toMatchObject({ source: '${DIR:-/x}', target: '/y' });
    expect(() => parseVolumeString('a:b:c:d')).toThrow(/too many colons/);
    expect(() => parseVolumeString('a::b')).toThrow(/empty section/);
  });

  it('volumes: a Windows drive is part of the source, a bind, and a one-letter volume stays a volume', () => {
    expect(parseVolumeString('C:\\docker\\project:/app:ro')).toMatchObject({ type: 'bind', source: 'C:\\docker\\project', target: '/app', read_only: true });
    expect(parseVolumeString('c:/docker/project:/app')).toMatchObject({ type: 'bind', source: 'c:/docker/project', target: '/app' });
    expect(parseVolumeString('a:/data')).toMatchObject({ type: 'volume', source: 'a', target: '/data' });
  });

  it('durations: Go syntax in, milliseconds out, Go syntax back', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('100us')).toBe(0.1);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('0')).toBe(0);
    expect(() => parseDuration('10')).toThrow(/not a duration/);
    expect(() => parseDuration('5x')).toThrow(/not a duration/);
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(7_200_000)).toBe('2h0m0s');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(500)).toBe('500ms');
    expect(formatDuration(0.25)).toBe('250µs');
    expect(formatDuration(0)).toBe('0s');
  });

  it('byte sizes: go-units RAM sizes (powers of 1024)', () => {
    expect(parseBytes('64m')).toBe(64 * 1024 ** 2);
    expect(parseBytes('1GiB')).toBe(1024 ** 3);
    expect(parseBytes('512kb')).toBe(512 * 1024);
    expect(parseBytes('1.5g')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('100')).toBe(100);
    expect(parseBytes(2048)).toBe(2048);
    expect(() => parseBytes('12 parsecs')).toThrow(/not a size/);
  });

  it('a string command is split like a shell would, without expanding anything', () => {
    expect(splitShellWords(`sh -c 'echo "$HOME" && ls'`)).toEqual(['sh', '-c', 'echo "$HOME" && ls']);
    expect(splitShellWords(`a "b \\"c\\"" d\\ e ''`)).toEqual(['a', 'b "c"', 'd e', '']);
    expect(() => splitShellWords(`echo 'oops`)).toThrow(/unterminated single quote/);
  });
});

describe('services in their long form', () => {
  it('ports in all forms', async () => {
    const { s } = await service('    ports:\n      - 80\n      - "8080:80"\n      - {target: 53, published: 5353, protocol: UDP, mode: host, host_ip: "[::1]"}\n');
    expect(s.ports).toEqual([
      { mode: 'ingress', target: 80, protocol: 'tcp' },
      { mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' },
      { mode: 'host', host_ip: '::1', target: 53, published: '5353', protocol: 'udp' },
    ]);
  });

  it('volumes: short and long forms, absolute sources, clean targets', async () => {
    const { s, dir } = await service(
      '    volumes:\n      - data:/data/\n      - ./src:/app:ro\n      - /anon\n      - {type: tmpfs, target: /tmp, tmpfs: {size: 64m, mode: 01777}}\n      - {type: bind, source: ../up, target: /up, bind: {create_host_path: false}}\nvolumes: {data: {}}\n',
    );
    expect(s.volumes).toEqual([
      { type: 'volume', source: 'data', target: '/data', read_only: false, volume: { nocopy: false } },
      { type: 'bind', source: `${dir}/src`, target: '/app', read_only: true, bind: { create_host_path: true } },
      { type: 'volume', target: '/anon', read_only: false, volume: { nocopy: false } },
      { type: 'tmpfs', target: '/tmp', read_only: false, tmpfs: { size: 64 * 1024 ** 2, mode: 0o1777 } },
      { type: 'bind', source: dir.replace(/\/proj$/, '/up'), target: '/up', read_only: false, bind: { create_host_path: false } },
    ]);
  });

  it('volumes: Windows absolute bind sources are kept as written, not made relative to the project', async () => {
    const { s } = await service('    volumes:\n      - C:\\docker\\project:/app\n      - {type: bind, source: "D:\\\\data", target: /data}\n      - "\\\\\\\\server\\\\share:/share"\n');
    expect(s.volumes.map((v) => [v.type, v.source, v.target])).toEqual([
      ['bind', 'C:\\docker\\project', '/app'],
      ['bind', 'D:\\data', '/data'],
      ['bind', '\\\\server\\share', '/share'],
    ]);
  });

  it('depends_on, networks and environment lists become mappings', async () => {
    const { project } = await load(
      'services:\n  web:\n    image: x\n    depends_on: [db]\n    networks: [front]\n    environment: [A=1, B, C=]\n  db: {image: d}\nnetworks: {front: {}}\n',
      { environment: { B: 'from-shell' } },
    );
    const web = project.services.web!;
    expect(web.depends_on).toEqual({ db: { condition: 'service_started', required: true, restart: false } });
    expect(web.networks).toEqual({ front: null });
    expect(web.environment).toEqual({ A: '1', B: 'from-shell', C: '' });
    expect(project.services.db!.networks).toEqual({ default: null });
  });

  it('links, service: namespaces and volumes_from are dependencies too', async () => {
    const { project } = await load(
      'services:\n  a: {image: x, links: ["b:alias"], network_mode: "service:c", volumes_from: ["d:ro", "container:ext"]}\n  b: {image: x}\n  c: {image: x}\n  d: {image: x}\n',
    );
    expect(project.services.a!.depends_on).toEqual({
      b: { condition: 'service_started', required: true, restart: true },
      c: { condition: 'service_started', required: true, restart: true },
      d: { condition: 'service_started', required: true, restart: false },
    });
    expect(project.services.a!.networks).toEqual({});
  });

  it('build: string or mapping, context and dockerfile defaults, remote contexts kept', async () => {
    const { project, dir } = await load(
      'services:\n  a: {build: ./a}\n  b: {build: {dockerfile_inline: "FROM x"}}\n  c: {build: "https://github.com/x/y.git#main"}\n  d: {build: {context: ., args: {V: "1"}, shm_size: 1g, target: dev}}\n',
    );
    expect(project.services.a!.build).toMatchObject({ context: `${dir}/a`, dockerfile: 'Dockerfile' });
    expect(project.services.b!.build).toMatchObject({ context: dir, dockerfile_inline: 'FROM x' });
    expect(project.services.b!.build!.dockerfile).toBeUndefined();
    expect(project.services.c!.build!.context).toBe('https://github.com/x/y.git#main');
    expect(project.services.d!.build).toMatchObject({ args: { V: '1' }, shm_size: 1024 ** 3, target: 'dev' });
  });

  it('healthcheck: string test runs in a shell, durations in milliseconds', async () => {
    const { s } = await service('    healthcheck:\n      test: curl -f http://localhost\n      interval: 1m30s\n      timeout: 10s\n      retries: 3\n      start_period: 40s\n      start_interval: 5s\n');
    expect(s.healthcheck).toEqual({
      test: ['CMD-SHELL', 'curl -f http://localhost'],
      interval: 90_000,
      timeout: 10_000,
      retries: 3,
      start_period: 40_000,
      start_interval: 5_000,
      disable: false,
    });
  });

  it('sizes, limits, ulimits, devices, secrets, extra_hosts, restart, stop_grace_period', async () => {
    const { s } = await service(
      [
        '    shm_size: 256m',
        '    mem_limit: 1g',
        '    memswap_limit: -1',
        '    ulimits: {nofile: {soft: 1024, hard: 4096}, nproc: 64}',
        '    devices: ["/dev/fuse", "/dev/a:/dev/b:r"]',
        '    secrets: [s, {source: s, target: other, mode: 0400}]',
        '    extra_hosts: ["db=10.0.0.2", "v6:[::1]"]',
        '    restart: on-failure:3',
        '    stop_grace_period: 1m',
        '    stop_signal: SIGINT',
        '    init: true',
        '    tmpfs: /run',
        '    dns: 1.1.1.1',
        'secrets: {s: {file: ./s.txt}}',
      ].join('\n') + '\n',
    );
    expect(s).toMatchObject({
      shm_size: 256 * 1024 ** 2,
      mem_limit: 1024 ** 3,
      memswap_limit: -1,
      ulimits: { nofile: { soft: 1024, hard: 4096 }, nproc: { soft: 64, hard: 64 } },
      devices: [
        { source: '/dev/fuse', target: '/dev/fuse', permissions: 'rwm' },
        { source: '/dev/a', target: '/dev/b', permissions: 'r' },
      ],
      secrets: [
        { source: 's', target: '/run/secrets/s' },
        { source: 's', target: '/run/secrets/other', mode: 0o400 },
      ],
      extra_hosts: { db: ['10.0.0.2'], v6: ['::1'] },
      restart: 'on-failure:3',
      stop_grace_period: 60_000,
      stop_signal: 'SIGINT',
      init: true,
      tmpfs: ['/run'],
      dns: ['1.1.1.1'],
    });
  });

  it('scale holds the replica count, from scale or deploy.replicas', async () => {
    const { project } = await load('services:\n  a: {image: x, scale: 2}\n  b: {image: x, deploy: {replicas: 3}}\n  c: {image: x}\n');
    expect([project.services.a!.scale, project.services.b!.scale, project.services.c!.scale]).toEqual([2, 3, undefined]);
  });

  it('command and entrypoint: null means the image default, "" or [] clears', async () => {
    const { project } = await load('services:\n  a: {image: x}\n  b: {image: x, command: "", entrypoint: []}\n  c: {image: x, command: ["a", "b c"]}\n');
    expect(project.services.a).toMatchObject({ command: null, entrypoint: null });
    expect(project.services.b).toMatchObject({ command: [], entrypoint: [] });
    expect(project.services.c!.command).toEqual(['a', 'b c']);
  });

  it('env_file: read in order, environment wins, required: false may be missing', async () => {
    const { s } = await service('    env_file:\n      - a.env\n      - {path: b.env}\n      - {path: missing.env, required: false}\n    environment: {C: own}\n', {
      'a.env': 'A=1\nB=from-a\nC=from-a\n',
      'b.env': 'B=${A}-b\n',
    });
    expect(s.environment).toEqual({ A: '1', B: '1-b', C: 'own' });
    expect(s.env_file.map((f) => [f.path.split('/').pop(), f.required])).toEqual([
      ['a.env', true],
      ['b.env', true],
      ['missing.env', false],
    ]);
  });

  it('top-level resources get project-scoped names unless named or external', async () => {
    const { project } = await load(
      [
        'services:',
        '  web: {image: x, networks: [a, b, c], volumes: [v1:/1, v2:/2, v3:/3], configs: [cfg], secrets: [sec]}',
        'networks:',
        '  a: {}',
        '  b: {name: custom}',
        '  c: {external: true}',
        'volumes:',
        '  v1:',
        '  v2: {external: {name: legacy}}',
        '  v3: {driver: local, driver_opts: {type: none, o: bind, device: ./data}}',
        'configs:',
        '  cfg: {content: "hello"}',
        'secrets:',
        '  sec: {environment: TOKEN}',
      ].join('\n'),
    );
    expect(Object.fromEntries(Object.entries(project.networks).map(([k, n]) => [k, [n.name, n.external]]))).toEqual({
      a: ['proj_a', false],
      b: ['custom', false],
      c: ['c', true],
    });
    expect(project.volumes.v1!.name).toBe('proj_v1');
    expect(project.volumes.v2).toMatchObject({ name: 'legacy', external: true });
    expect(project.volumes.v3!.driver_opts.device).toBe(`${project.workingDir}/data`);
    expect(project.configs.cfg).toMatchObject({ name: 'proj_cfg', content: 'hello' });
    expect(project.secrets.sec).toMatchObject({ name: 'proj_sec', environment: 'TOKEN' });
  });

  it('keeps x- extensions where they were written', async () => {
    const { project } = await load('x-top: 1\nservices:\n  web:\n    image: x\n    x-mine: {a: b}\n    ports: [{target: 80, x-port: yes}]\n');
    expect(project.extensions).toEqual({ 'x-top': 1 });
    expect(project.services.web!['x-mine']).toEqual({ a: 'b' });
    expect(project.services.web!.ports[0]!['x-port']).toBe('yes');
  });

  it('reports every bad value at its place', async () => {
    const errors = await loadErrors(
      [
        'services:',
        '  web:',
        '    image: x',
        '    ports: ["99999:80", {published: 80}]',
        '    stop_grace_period: "10"',
        '    mem_limit: lots',
        '    restart: sometimes',
        '    volumes: ["data:relative"]',
        '    healthcheck: {test: [RUN, x]}',
        '    extra_hosts: ["db=not-an-ip"]',
      ].join('\n'),
    );
    expect(brief(errors)).toEqual([
      '4:13: invalid port "99999:80": host port 99999 is out of range (0-65535)',
      '4:25: a port in the long syntax needs a `target` (the container port)',
      '5:24: services.web.stop_grace_period: "10" is not a duration (write it like 30s, 1m30s, 500ms or 2h)',
      '6:16: services.web.mem_limit: "lots" is not a size (write it like 64m, 512k, 1g or a number of bytes)',
      '7:14: restart must be no, always, on-failure[:max-retries] or unless-stopped, not "sometimes"',
      '8:15: volume "data:relative": the mount point relative must be an absolute path in the container',
      '9:26: healthcheck.test must start with "CMD", "CMD-SHELL" or "NONE" (or be a string, run with the shell), not "RUN"',
      '10:19: extra_hosts: "not-an-ip" for db is not an IP address (or host-gateway)',
    ]);
  });
});
