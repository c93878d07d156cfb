import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEngine } from '../../src/engine/index.js';
import type { Engine } from '../../src/engine/types.js';
import { BACKENDS, BUSYBOX, prepareBackend, releaseBackend } from './helpers.js';
import { Scenario, disposeBuild, ensureBuilt } from './cli.js';

/**
 * The orchestrator end to end, through the CLI, with the same assertions on
 * every backend: what a user observes (names that resolve, ports that answer,
 * data that stays, start-up order, exit codes, nothing left after down).
 * Networks are `internal: true` wherever nothing is published, so no
 * container can reach out of the machine.
 */
const IMAGE = BUSYBOX;

describe.each(BACKENDS)('compose scenarios on %s', (backend) => {
  let engine: Engine;
  const scenarios: Scenario[] = [];
  const scenario = () => {
    const s = new Scenario(backend);
    scenarios.push(s);
    return s;
  };

  beforeAll(async () => {
    await Promise.all([prepareBackend(backend), ensureBuilt()]);
    engine = await openEngine(backend);
  });
  afterEach(() => {
    for (const s of scenarios.splice(0)) s.dispose();
  });
  afterAll(async () => {
    disposeBuild();
    await engine?.close();
    await releaseBackend(backend);
  });

  const container = async (name: string) => {
    const c = await engine.containers.inspect(name);
    if (!c) throw new Error(`no container ${name}`);
    return c;
  };

  it('up, edit the file, up (only the changed service is recreated), down leaves nothing', async () => {
    const s = scenario();
    const file = (greeting: string) => `
services:
  a:
    image: ${IMAGE}
    command: ["sleep", "3600"]
    init: true
    environment: { GREETING: "${greeting}" }
    volumes: [scratch:/scratch, /anon]
  b:
    image: ${IMAGE}
    command: ["sleep", "3600"]
    init: true
    depends_on: [a]
networks:
  default: { internal: true }
volumes:
  scratch: {}
`;
    s.write('compose.yaml', file('hello'));
    const up1 = await s.ok(['up', '-d']);
    expect(up1.stderr).toContain(`Container ${s.name}-a-1  Started`);
    const a1 = await container(`${s.name}-a-1`);
    const b1 = await container(`${s.name}-b-1`);
    expect(a1.env).toContain('GREETING=hello');
    expect(a1.labels['com.docker.compose.project']).toBe(s.name);
    expect(a1.labels['com.docker.compose.service']).toBe('a');
    expect(a1.labels['com.docker.compose.container-number']).toBe('1');
    expect(a1.labels['com.docker.compose.oneoff']).toBe('False');
    expect(Object.keys(a1.networks)).toEqual([`${s.name}_default`]);

    // No change: nothing happens, and each container is said to be running (Compose's convergence says so).
    const noop = await s.ok(['up', '-d']);
    expect(noop.stderr).not.toMatch(/Creat|Recreat|Start/);
    expect(noop.stderr).toContain(`Container ${s.name}-a-1  Running`);
    expect(noop.stderr).toContain(`Container ${s.name}-b-1  Running`);
    // A container stopped behind its back is started again, not taken for running; the other one is left alone.
    await engine.containers.stop(b1.id, 0);
    const restart = await s.ok(['up', '-d']);
    expect(restart.stderr).toContain(`Container ${s.name}-b-1  Started`);
    expect(restart.stderr).not.toContain(`Container ${s.name}-b-1  Running`);
    expect(restart.stderr).toContain(`Container ${s.name}-a-1  Running`);
    expect((await container(`${s.name}-b-1`)).state).toBe('running');
    const dry = await s.ok(['--dry-run', 'up', '-d']);
    expect(dry.stdout).toBe('DRY-RUN MODE - nothing to do\n');

    s.write('compose.yaml', file('bonjour'));
    const plan = await s.ok(['--dry-run', 'up', '-d']);
    expect(plan.stdout).toContain('service:a:1 CreateContainer (config changed: environment.GREETING)');
    expect((await container(`${s.name}-a-1`)).id).toBe(a1.id); // the dry run changed nothing
    const changed = await s.ok(['up', '-d']);
    expect(changed.stderr).toContain(`Container ${s.name}-b-1  Running`);
    expect(changed.stderr).not.toContain(`Container ${s.name}-a-1  Running`);
    const a2 = await container(`${s.name}-a-1`);
    const b2 = await container(`${s.name}-b-1`);
    expect(a2.id).not.toBe(a1.id);
    expect(a2.env).toContain('GREETING=bonjour');
    expect(b2.id).toBe(b1.id);
    expect(a2.state).toBe('running');
    // The replacement inherited the anonymous volume.
    expect(a2.mounts.find((m) => m.target === '/anon')!.name).toBe(a1.mounts.find((m) => m.target === '/anon')!.name);

    await s.ok(['down']);
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [`${s.name}_scratch`] });
    expect(await engine.volumes.inspect(a1.mounts.find((m) => m.target === '/anon')!.name!)).toBeUndefined();
    await s.ok(['down', '-v']);
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it('names resolve across services (service, alias, container name) on their networks only', async () => {
    const s = scenario();
    s.write(
      'compose.yaml',
      `
services:
  db:
    image: ${IMAGE}
    command: ["sh", "-c", "mkdir -p /www && echo db-says-hi > /www/index.html && exec httpd -f -p 8080 -h /www"]
    init: true
    networks:
      back: { aliases: [database] }
  web:
    image: ${IMAGE}
    command: ["sleep", "3600"]
    init: true
    networks: [back, front]
  lonely:
    image: ${IMAGE}
    command: ["sleep", "3600"]
    init: true
    networks: [front]
networks:
  back: { internal: true }
  front: { internal: true }
`,
    );
    await s.ok(['up', '-d']);
    for (const host of ['db', 'database', `${s.name}-db-1`]) {
      const r = await s.ok(['exec', '-T', 'web', 'wget', '-q', '-O-', `http://${host}:8080/`]);
      expect(r.stdout).toBe('db-says-hi\n');
    }
    const ns = await s.ok(['exec', '-T', 'web', 'nslookup', 'db']);
    expect(ns.stdout).toMatch(/Address: \d+\.\d+\.\d+\.\d+/);
    // Not on db's network: no answer.
    const lonely = await s.compose(['exec', '-T', 'lonely', 'wget', '-q', '-T', '2', '-O-', 'http://db:8080/']);
    expect(lonely.code).not.toBe(0);
    await s.ok(['down']);
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it('published ports answer on 127.0.0.1; port prints them', async () => {
    const s = scenario();
    s.write(
      'compose.yaml',
      `
services:
  web:
    image: ${IMAGE}
    command: ["sh", "-c", "mkdir -p /www && echo served-by-web > /www/index.html && exec httpd -f -p 8080 -h /www"]
    init: true
    ports: ["127.0.0.1::8080"]
`,
    );
    await s.ok(['up', '-d']);
    const port = (await s.ok(['port', 'web', '8080'])).stdout.trim();
    expect(port).toMatch(/^127\.0\.0\.1:\d+$/);
    let body = '';
    for (let i = 0; i < 50 && !body; i++) {
      body = await fetch(`http://${port}/`).then((r) => r.text(), () => '');
      if (!body) await sleep(100);
    }
    expect(body).toBe('served-by-web\n');
    const ps = await s.ok(['ps']);
    expect(ps.stdout).toContain(`${port}->8080/tcp`);
    await s.ok(['down']);
  });

  it('named volumes keep data across down/up; down -v removes them', async () => {
    const s = scenario();
    s.write(
      'compose.yaml',
      `
services:
  store:
    image: ${IMAGE}
    command: ["sleep", "3600"]
    init: true
    volumes: [data:/data]
networks:
  default: { internal: true }
volumes:
  data: {}
`,
    );
    await s.ok(['up', '-d']);
    await s.ok(['exec', '-T', 'store', 'sh', '-c', 'echo kept > /data/file']);
    await s.ok(['down']);
    expect(s.leftovers().volumes).toEqual([`${s.name}_data`]);
    await s.ok(['up', '-d']);
    expect((await s.ok(['exec', '-T', 'store', 'cat', '/data/file'])).stdout).toBe('kept\n');
    await s.ok(['down', '-v']);
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it('health gates start-up (service_healthy); a job gates with service_completed_successfully', async () => {
    const s = scenario();
    s.write(
      'compose.yaml',
      `
services:
  db:
    image: ${IMAGE}
    # Serves /ready only after a while: whoever starts too early cannot fetch it.
    command: ["sh", "-c", "mkdir -p /www; (sleep 2; echo ok > /www/ready) & exec httpd -f -p 8080 -h /www"]
    init: true
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/ready"]
      interval: 300ms
      timeout: 2s
      retries: 30
  migrate:
    image: ${IMAGE}
    command: ["sh", "-c", "sleep 1; echo migrated > /shared/done"]
    volumes: [shared:/shared]
  web:
    image: ${IMAGE}
    command: ["sh", "-c", "wget -q -O- http://db:8080/ready && cat /shared/done && exec sleep 3600 || exit 1"]
    init: true
    volumes: [shared:/shared]
    depends_on:
      db: { condition: service_healthy }
      migrate: { condition: service_completed_successfully }
networks:
  default: { internal: true }
volumes:
  shared: {}
`,
    );
    const up = await s.ok(['up', '-d']);
    expect(up.stderr).toMatch(new RegExp(`Container ${s.name}-db-1  Healthy[\\s\\S]*Container ${s.name}-web-1  Started`));
    const web = await container(`${s.name}-web-1`);
    expect(web.state).toBe('running');
    const logs = await s.ok(['logs', 'web']);
    expect(logs.stdout).toBe('web-1  | ok\nweb-1  | migrated\n');
    const migrate = await container(`${s.name}-migrate-1`);
    expect(migrate.state).toBe('exited');
    expect(migrate.exitCode).toBe(0);
    // A completed job is not run again by the next up.
    await s.ok(['up', '-d']);
    expect((await container(`${s.name}-migrate-1`)).finishedAt).toBe(migrate.finishedAt);

    // A failing job stops its dependents from starting, and up says so.
    s.write('compose.yaml', (await import('node:fs')).readFileSync(`${s.dir}/compose.yaml`, 'utf8').replace('echo migrated > /shared/done', 'exit 3'));
    const failed = await s.compose(['up', '-d']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('service "migrate" didn\'t complete successfully: exit 3');
    await s.ok(['down', '-v']);
  });

  it('a dependency without a healthcheck, or unhealthy, fails service_healthy with Compose\'s message', async () => {
    const s = scenario();
    s.write(
      'compose.yaml',
      `
services:
  db:
    image: ${IMAGE}
    command: ["sleep", "3600"]
    init: true
    healthcheck: { test: ["CMD", "false"], interval: 200ms, retries: 2 }
  web:
    image: ${IMAGE}
    command: ["sleep", "3600"]
    init: true
    depends_on: { db: { condition: service_healthy } }
networks:
  default: { internal: true }
`,
    );
    const r = await s.compose(['up', '-d']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`dependency failed to start: container ${s.name}-db-1 is unhealthy`);
    expect((await container(`${s.name}-web-1`)).state).toBe('created');
    await s.ok(['down']);
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it('exit codes: up --exit-code-from, --abort-on-container-exit, run, exec', async () => {
    const s = scenario();
    s.write(
      'compose.yaml',
      `
services:
  server:
    image: ${IMAGE}
    command: ["sleep", "3600"]
    init: true
  worker:
    image: ${IMAGE}
    command: ["sh", "-c", "echo working; sleep 1; exit 7"]
networks:
  default: { internal: true }
`,
    );
    const up = await s.compose(['up', '--exit-code-from', 'worker']);
    expect(up.code).toBe(7);
    expect(up.stdout).toContain('worker-1  | working');
    expect(up.stdout).toContain('worker-1 exited with code 7');
    expect((await container(`${s.name}-server-1`)).state).toBe('exited'); // stopped by the abort
    const abort = await s.compose(['up', '--abort-on-container-exit']);
    expect(abort.code).toBe(7);

    const run = await s.compose(['run', '--rm', 'worker', 'sh', '-c', 'echo from-run; exit 5']);
    expect(run.code).toBe(5);
    expect(run.stdout).toBe('from-run\n');
    const piped = await s.compose(['run', '--rm', '-T', 'worker', 'cat'], { input: 'through stdin\n' });
    expect(piped.code).toBe(0);
    expect(piped.stdout).toBe('through stdin\n');

    await s.ok(['up', '-d', 'server']);
    const exec = await s.compose(['exec', '-T', 'server', 'sh', '-c', 'exit 4']);
    expect(exec.code).toBe(4);
    const missing = await s.compose(['exec', '-T', 'nope', 'true']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('service "nope" is not running');
    await s.ok(['down']);
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it('scale, orphans and --remove-orphans through the CLI', async () => {
    const s = scenario();
    const file = (services: string) => `
services:
${services}
networks:
  default: { internal: true }
`;
    const svc = (n: string) => `  ${n}:\n    image: ${IMAGE}\n    command: ["sleep", "3600"]\n    init: true\n`;
    s.write('compose.yaml', file(svc('a') + svc('b')));
    await s.ok(['up', '-d', '--scale', 'a=3']);
    expect((await s.ok(['ps', '--format', '{{.Name}}'])).stdout.split('\n').filter(Boolean).sort()).toEqual([`${s.name}-a-1`, `${s.name}-a-2`, `${s.name}-a-3`, `${s.name}-b-1`]);
    await s.ok(['up', '-d']);
    expect((await s.ok(['ps', '-q', 'a'])).stdout.trim().split('\n')).toHaveLength(1);
    s.write('compose.yaml', file(svc('a')));
    const warned = await s.ok(['up', '-d']);
    expect(warned.stderr).toContain(`Found orphan containers ([${s.name}-b-1])`);
    await s.ok(['up', '-d', '--remove-orphans']);
    expect(s.leftovers().containers).toHaveLength(1);
    await s.ok(['down']);
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it('configs and secrets are mounted where Compose puts them', async () => {
    const s = scenario();
    s.write('app.conf', 'setting=1\n');
    s.write(
      'compose.yaml',
      `
services:
  app:
    image: ${IMAGE}
    command: ["sleep", "3600"]
    init: true
    configs: [app_conf, { source: inline, target: /etc/inline.conf, mode: 0400 }]
    secrets: [token]
configs:
  app_conf: { file: ./app.conf }
  inline: { content: "inline=\${VALUE}" }
secrets:
  token: { environment: TOKEN }
networks:
  default: { internal: true }
`,
    );
    const env = { VALUE: 'yes', TOKEN: 's3cret' };
    const up = await s.compose(['up', '-d'], { env });
    expect(up.code, up.stderr).toBe(0);
    const read = async (path: string) => (await s.compose(['exec', '-T', 'app', 'cat', path], { env })).stdout;
    expect(await read('/app_conf')).toBe('setting=1\n');
    expect(await read('/etc/inline.conf')).toBe('inline=yes');
    expect(await read('/run/secrets/token')).toBe('s3cret');
    // New content, same file name: the service is recreated.
    s.write('app.conf', 'setting=2\n');
    const again = await s.compose(['--dry-run', 'up', '-d'], { env });
    expect(again.stdout).toContain('CreateContainer (config changed: config app_conf content)');
    await s.compose(['down'], { env });
  });

  it('the first Ctrl-C of a foreground up stops gracefully (exit 130)', async () => {
    const s = scenario();
    s.write('compose.yaml', `\nservices:\n  a:\n    image: ${IMAGE}\n    command: ["sh", "-c", "echo ready; exec sleep 3600"]\n    init: true\nnetworks:\n  default: { internal: true }\n`);
    const child = s.spawn(['up']);
    let out = '';
    let err = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    for (let i = 0; i < 300 && !out.includes('a-1  | ready'); i++) await sleep(100);
    expect(out).toContain('a-1  | ready');
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(err).toContain('Gracefully Stopping... press Ctrl+C again to force');
    expect(err).toContain(`Container ${s.name}-a-1  Stopped`);
    expect((await container(`${s.name}-a-1`)).state).toBe('exited');
    await s.ok(['down']);
  });

  it('up builds a service\'s image with its build config; down --rmi local removes it', async () => {
    const s = scenario();
    s.write('Dockerfile', `FROM ${IMAGE}\nARG GREETING\nRUN echo "$GREETING" > /built\nCMD ["sleep", "3600"]\n`);
    s.write(
      'compose.yaml',
      `
services:
  app:
    build:
      context: .
      args: { GREETING: built-by-compose }
    init: true
networks:
  default: { internal: true }
`,
    );
    const up = await s.ok(['up', '-d']);
    expect(up.stderr).toContain(`Image ${s.name}-app  Built`);
    expect((await s.ok(['exec', '-T', 'app', 'cat', '/built'])).stdout).toBe('built-by-compose\n');
    // Built once: the next up neither builds nor recreates.
    const again = await s.ok(['up', '-d']);
    expect(again.stderr).not.toContain('Building');
    expect((await s.ok(['images', '--format', 'json'])).stdout).toContain(`"Repository":"${s.name}-app"`);
    await s.ok(['down', '--rmi', 'local']);
    expect(await engine.images.inspect(`${s.name}-app`)).toBeUndefined();
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it('a service named on the command line runs whatever its profiles, with what it uses', async () => {
    const s = scenario();
    s.write(
      'compose.yaml',
      `
services:
  app:
    image: ${IMAGE}
    command: ["sleep", "3600"]
    init: true
  debug:
    image: ${IMAGE}
    command: ["sleep", "3600"]
    init: true
    profiles: [debug]
    networks: [dbg]
networks:
  default: { internal: true }
  dbg: { internal: true }
`,
    );
    await s.ok(['up', '-d']);
    expect(s.leftovers().containers).toHaveLength(1);
    await s.ok(['up', '-d', 'debug']);
    expect((await container(`${s.name}-debug-1`)).networks).toHaveProperty(`${s.name}_dbg`);
    // Not named again: disabled, but not an orphan either.
    const again = await s.ok(['up', '-d']);
    expect(again.stderr).not.toContain('orphan');
    await s.ok(['down']);
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it('bad input names the object and the fix, and creates nothing', async () => {
    const s = scenario();
    s.write('compose.yaml', `\nservices:\n  a:\n    image: ${IMAGE}\n    networks: [outside]\nnetworks:\n  outside: { external: true, name: tsc-no-such-net }\n`);
    const r = await s.compose(['up', '-d']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('network tsc-no-such-net declared as external, but could not be found');
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
    const native = await s.compose(['--backend', 'native', 'ps'], { env: { TSCOMPOSE_BACKEND: '' } });
    expect(native.code === 0 || /native engine/.test(native.stderr)).toBe(true);
  });
});
