import { beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, statSync, readdirSync, existsSync, writeFileSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, runOk, type RunResult } from '../../src/util/proc.js';
import { withLock } from '../../src/util/lock.js';
import { cacheDir, repoRoot } from '../support/cache.js';
import { attachContainer, detachContainer, setContainerRunning, pruneNetworks, type AttachResult, type EndpointRequest } from '../../src/network/index.js';
import { callDaemon } from '../../src/network/daemon/client.js';
import type { AttachOptions, PortMapping } from '../../src/network/types.js';
import { hostRoutes } from '../../src/network/hostroutes.js';
import { formatIpv4, maskOf } from '../../src/network/ipv4.js';
import { findLeaks, forceCleanup, formatLeaks } from './leaks.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';

/**
 * What every network test shares: its own state and run roots, a fake
 * upstream resolver on 127.0.0.1 (no query ever leaves the machine), the
 * compiled daemon, and "containers" made of a namespace from the network
 * module with host binaries run inside it (busybox, node) until tests use
 * the runtime's real containers.
 */

/**
 * The compiled code the tests run (the CLI and the network daemon): a build
 * of their own under .cache/, named by the hash of every source file and
 * moved into place whole, so that a concurrent `npm run build` (other work
 * in the same checkout) never changes a file under a starting daemon.
 */
let built: string | undefined;

/**
 * A 10.x.0.0/16 that no route of the host overlaps now (another run's
 * bridges included), for a test that must name its subnet: a fixed one
 * collides with whatever else on the host holds it.
 */
export function freeSubnet16(): { base: string; at: (c: number, d: number) => string } {
  const routes = hostRoutes();
  for (let x = 200; x < 250; x++) {
    const base = (10 << 24) + (x << 16);
    const overlaps = routes.some((r) => {
      const mask = maskOf(Math.min(r.prefix, 16)) >>> 0;
      return ((r.base & mask) >>> 0) === ((base & mask) >>> 0);
    });
    if (!overlaps) return { base: formatIpv4(base), at: (c, d) => `10.${x}.${c}.${d}` };
  }
  throw new Error('no free 10.200-249.0.0/16 on this host');
}

export async function ensureBuilt(): Promise<string> {
  if (built && existsSync(join(built, 'daemon/main.js'))) return built;
  const hash = createHash('sha256');
  for (const f of walk(join(repoRoot, 'src')).filter((f) => f.endsWith('.ts')).sort()) hash.update(f).update(readFileSync(f));
  hash.update(readFileSync(join(repoRoot, 'tsconfig.build.json')));
  const dir = join(cacheDir('network-build'), hash.digest('hex').slice(0, 16));
  await withLock(`${dir}.lock`, async () => {
    if (existsSync(join(dir, 'daemon/main.js'))) return;
    const tmp = `${dir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    // Other modules' type errors do not stop tsc from emitting.
    await run(join(repoRoot, 'node_modules/.bin/tsc'), ['-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', tmp], { cwd: repoRoot });
    if (!existsSync(join(tmp, 'daemon/main.js'))) throw new Error('tsc did not produce daemon/main.js');
    renameSync(tmp, dir);
    // Keep the few latest builds only.
    const all = readdirSync(cacheDir('network-build')).filter((d) => /^[0-9a-f]{16}$/.test(d)).map((d) => join(cacheDir('network-build'), d));
    for (const old of all.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs).slice(4)) rmSync(old, { recursive: true, force: true });
  }, 300_000);
  built = dir;
  return dir;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** `tscompose ...` from the tests' build, with the given environment; never throws on a non-zero exit. */
export function runCli(build: string, env: Record<string, string>, args: string[]): Promise<RunResult> {
  return run(process.execPath, [join(build, 'cli/main.js'), ...args], { env: { ...process.env, ...env }, timeout: 120_000, killSignal: 'SIGKILL' });
}

export interface NetEnv {
  /** The compiled code (see ensureBuilt): `<build>/cli/main.js`, `<build>/network/index.js`. */
  build: string;
  dir: string;
  stateRoot: string;
  runRoot: string;
  upstream: FakeUpstream;
  env: Record<string, string>;
}

/**
 * Gives the test its own roots and upstream, and afterwards tears everything
 * down through the product (containers detached, networks pruned, the daemon
 * gone by itself) and asserts with the leak checker that nothing is left.
 * Whatever the product failed to remove is then removed by force, so a
 * failing test does not leave the machine dirty for the next.
 */
export async function setUpNetEnv(): Promise<NetEnv> {
  const build = await ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'tsc-net-'));
  const upstream = await startFakeUpstream();
  const env = {
    TSCOMPOSE_ROOT: join(dir, 'root'),
    TSCOMPOSE_RUN: join(dir, 'run'),
    TSCOMPOSE_DNS_UPSTREAM: `127.0.0.1:${upstream.port}`,
    TSCOMPOSE_DAEMON_ENTRY: join(build, 'daemon/main.js'),
  };
  Object.assign(process.env, env);
  return { build, dir, stateRoot: env.TSCOMPOSE_ROOT, runRoot: env.TSCOMPOSE_RUN, upstream, env };
}

export async function tearDownNetEnv(e: NetEnv, containers: FakeContainer[]): Promise<void> {
  let failure: Error | undefined;
  try {
    for (const c of containers) await c.kill();
    for (const c of containers) await detachContainer(c.id);
    await pruneNetworks();
    const leaks = await findLeaks({ runRoot: e.runRoot, waitForDaemonMs: 5000 });
    if (leaks) failure = new Error(`teardown left: ${formatLeaks(leaks)}`);
  } catch (err) {
    failure = err as Error;
  } finally {
    await forceCleanup({ runRoot: e.runRoot });
    await e.upstream.close();
    rmSync(e.dir, { recursive: true, force: true });
    for (const k of Object.keys(e.env)) delete process.env[k];
  }
  if (failure) throw failure;
}

/**
 * The per-test harness of a network test file: `useNetEnv()` at the top of a
 * describe gives every test its own roots (setUpNetEnv) and tears them down
 * with the leak check (tearDownNetEnv); containers started through it, temp
 * dirs made through it and functions deferred with it are cleaned up first.
 */
export interface NetTest {
  env: NetEnv;
  containers: FakeContainer[];
  start(name: string, endpoints: EndpointRequest[], ports?: (PortMapping | string)[]): Promise<FakeContainer>;
  /** A temp dir with these files in it, removed after the test. */
  tempDir(files?: Record<string, string>): string;
  defer(fn: () => Promise<void> | void): void;
  /** `tscompose ...` with the test's roots; never throws on a non-zero exit. */
  cli(...args: string[]): Promise<RunResult>;
}

export function useNetEnv(): NetTest {
  const deferred: (() => Promise<void> | void)[] = [];
  const t: NetTest = {
    env: undefined as unknown as NetEnv,
    containers: [],
    async start(name, endpoints, ports = []) {
      const c = await FakeContainer.start(name, endpoints, ports);
      t.containers.push(c);
      return c;
    },
    tempDir(files = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'tsc-nettest-'));
      for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
      deferred.push(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    defer(fn) {
      deferred.push(fn);
    },
    cli(...args) {
      return runCli(t.env.build, t.env.env, args);
    },
  };
  beforeEach(async () => {
    t.env = await setUpNetEnv();
    t.containers.length = 0;
  });
  afterEach(async () => {
    try {
      for (const fn of deferred.splice(0).reverse()) await fn();
    } finally {
      await tearDownNetEnv(t.env, t.containers);
    }
  });
  return t;
}

/** A random 64-hex id, as the runtime makes them. */
export function containerId(): string {
  return randomBytes(32).toString('hex');
}

/**
 * A stand-in container: a network namespace from attachContainer, a "PID 1"
 * (busybox sleep) living in it, and host programs run inside it by nsenter.
 */
export class FakeContainer {
  readonly procs: ChildProcess[] = [];
  private constructor(
    readonly id: string,
    readonly name: string,
    readonly attach: AttachResult,
  ) {}

  static async start(name: string, endpoints: EndpointRequest[], ports: (PortMapping | string)[] = [], options: AttachOptions = {}): Promise<FakeContainer> {
    const id = containerId();
    const attach = await attachContainer(id, name, endpoints, ports, options);
    const c = new FakeContainer(id, name, attach);
    const init = c.spawn(['busybox', 'sleep', '100000']);
    await setContainerRunning(id, true, { pid: init.pid! });
    return c;
  }

  get ip(): string {
    return this.attach.addresses[0]!.ipv4;
  }

  get gateway(): string {
    return this.attach.addresses[0]!.gateway;
  }

  spawn(argv: string[]): ChildProcess {
    const p = spawn('nsenter', [`--net=${this.attach.netnsPath}`, ...argv], { stdio: 'ignore' });
    this.procs.push(p);
    return p;
  }

  exec(argv: string[], timeoutMs = 20_000): Promise<RunResult> {
    return run('nsenter', [`--net=${this.attach.netnsPath}`, ...argv], { timeout: timeoutMs, killSignal: 'SIGKILL' });
  }

  /**
   * Runs a host program as if it were in the container: its network
   * namespace, and a private mount namespace where /etc/resolv.conf and
   * /etc/hosts are the ones attachContainer computed.
   */
  async execWithResolver(argv: string[], timeoutMs = 20_000): Promise<RunResult> {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-etc-'));
    try {
      writeFileSync(join(dir, 'resolv.conf'), this.attach.resolvConf);
      writeFileSync(join(dir, 'hosts'), this.attach.hosts);
      const script = `mount --bind ${dir}/resolv.conf /etc/resolv.conf && mount --bind ${dir}/hosts /etc/hosts && exec "$@"`;
      return await this.exec(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...argv], timeoutMs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** An HTTP GET by URL through the container's resolver (node's http, glibc's getaddrinfo). */
  async httpGet(url: string, timeoutMs = 5000): Promise<string> {
    const r = await this.execWithResolver([process.execPath, join(repoRoot, 'test/network/fixtures/http-get.mjs'), url, String(timeoutMs)]);
    return r.stdout;
  }

  /** busybox nslookup against the container's resolver, as a program in the container would ask. */
  async nslookup(name: string): Promise<{ addresses: string[]; output: string }> {
    const r = await this.exec(['busybox', 'nslookup', name, this.gateway]);
    const output = r.stdout + r.stderr;
    const after = output.split(/^Name:/m).slice(1).join('\n');
    const addresses = [...after.matchAll(/^Address:\s*([0-9.]+)\s*$/gm)].map((m) => m[1]!);
    return { addresses: [...new Set(addresses)], output };
  }

  /** A precise query (rcode, TTLs, answers) with our own client, run inside the namespace. */
  async dig(name: string, type = 'A', transport: 'udp' | 'tcp' = 'udp', server = this.gateway): Promise<DigResult> {
    const out = await runOk('nsenter', [`--net=${this.attach.netnsPath}`, process.execPath, join(repoRoot, 'test/network/fixtures/dig.mjs'), server, name, type, transport]);
    return JSON.parse(out) as DigResult;
  }

  /** An HTTP server in the container (busybox httpd, foreground) serving `text` at /. */
  async serveHttp(port: number, dir: string): Promise<void> {
    this.spawn(['busybox', 'httpd', '-f', '-p', `0.0.0.0:${port}`, '-h', dir]);
    await this.waitListening('tcp', port);
  }

  /** A UDP echo server in the container (node, since busybox nc cannot echo datagrams back). */
  async serveUdpEcho(port: number): Promise<void> {
    this.spawn([process.execPath, join(repoRoot, 'test/network/fixtures/udp-echo.mjs'), String(port)]);
    await this.waitListening('udp', port);
  }

  async waitListening(proto: 'tcp' | 'udp', port: number): Promise<void> {
    const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
    for (let i = 0; i < 200; i++) {
      const r = await this.exec(['cat', `/proc/net/${proto}`]);
      if (r.stdout.split('\n').some((l) => l.includes(hex) && (proto === 'udp' || / 0A /.test(l)))) return;
      await sleep(25);
    }
    throw new Error(`nothing listens on ${proto}/${port} in container ${this.name}`);
  }

  async kill(): Promise<void> {
    for (const p of this.procs) {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill('SIGKILL');
        await new Promise((r) => p.once('exit', r));
      }
    }
  }

  async stop(): Promise<void> {
    await this.kill();
    await setContainerRunning(this.id, false);
  }
}

export interface DigResult {
  rcode: string;
  flags: { aa: boolean; tc: boolean; ra: boolean };
  answers: { type: string; name: string; ttl: number; data: string }[];
  error?: string;
}

export async function daemonPid(): Promise<number | undefined> {
  const r = await callDaemon<{ pid: number }>({ op: 'ping' }, { start: false }).catch(() => undefined);
  return r?.pid;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
