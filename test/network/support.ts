import { mkdtempSync, rmSync, statSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, runOk, type RunResult } from '../../src/util/proc.js';
import { withLock } from '../../src/util/lock.js';
import { cacheDir, repoRoot } from '../support/cache.js';
import { attachContainer, detachContainer, setContainerRunning, pruneNetworks, type AttachResult, type EndpointRequest } from '../../src/network/index.js';
import { callDaemon } from '../../src/network/daemon/client.js';
import { readAllNetworks } from '../../src/network/store.js';
import type { PortSpec } from '../../src/network/types.js';
import { findLeaks, forceCleanup, formatLeaks } from './leaks.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';

/**
 * What every network test shares: its own state and run roots, a fake
 * upstream resolver on 127.0.0.1 (no query ever leaves the machine), the
 * compiled daemon, and "containers" made of a namespace from the network
 * module with host binaries run inside it (busybox, node) until tests use
 * the runtime's real containers.
 */

/** The daemon runs from dist/: compile when any source is newer than its output. */
export async function ensureBuilt(): Promise<void> {
  await withLock(join(cacheDir(), 'network-build.lock'), async () => {
    if (!stale()) return;
    // Other modules' type errors do not stop tsc from emitting ours.
    await run(join(repoRoot, 'node_modules/.bin/tsc'), ['-p', join(repoRoot, 'tsconfig.build.json')], { cwd: repoRoot });
    if (!existsSync(join(repoRoot, 'dist/network/daemon/main.js'))) throw new Error('tsc did not produce dist/network/daemon/main.js');
  }, 120_000);
}

function stale(): boolean {
  for (const dir of ['src/network', 'src/util', 'src/cli']) {
    for (const f of walk(join(repoRoot, dir))) {
      if (!f.endsWith('.ts')) continue;
      const out = join(repoRoot, 'dist', relative(join(repoRoot, 'src'), f)).replace(/\.ts$/, '.js');
      if (!existsSync(out) || statSync(out).mtimeMs < statSync(f).mtimeMs) return true;
    }
  }
  return false;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

export interface NetEnv {
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
  await ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'tsc-net-'));
  const upstream = await startFakeUpstream();
  const env = {
    TSCOMPOSE_ROOT: join(dir, 'root'),
    TSCOMPOSE_RUN: join(dir, 'run'),
    TSCOMPOSE_DNS_UPSTREAM: `127.0.0.1:${upstream.port}`,
  };
  Object.assign(process.env, env);
  return { dir, stateRoot: env.TSCOMPOSE_ROOT, runRoot: env.TSCOMPOSE_RUN, upstream, env };
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

  static async start(name: string, endpoints: EndpointRequest[], ports: (PortSpec | string)[] = []): Promise<FakeContainer> {
    const id = containerId();
    const attach = await attachContainer(id, name, endpoints, ports);
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

export async function networkNamed(name: string) {
  return readAllNetworks().find((n) => n.name === name)!;
}

export async function daemonPid(): Promise<number | undefined> {
  const r = await callDaemon<{ pid: number }>({ op: 'ping' }, { start: false }).catch(() => undefined);
  return r?.pid;
}
