import { cpus, hostname, release, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import type { EngineEvent } from '../engine/types.js';
import { VERSION } from '../util/version.js';
import { stateRoot } from '../util/paths.js';
import { API_VERSION, MIN_API_VERSION, route, type Call, type Route } from './router.js';
import { ApiError, boolParam, parseFilters, readJson, sendJson, labelFilter, badRequest } from './http.js';
import { registryOf, verifyCredentials } from '../engine/native/registry/login.js';
import { errorMessage } from '../util/errors.js';
import { diskUsage } from './disk-usage.js';

/**
 * `/_ping`, `/version`, `/info`, `/system/df`, `/events`, `/auth`: what a
 * client asks before anything else (the API version to speak, the builder
 * to use), and the engine-wide reports.
 */

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

async function ping(c: Call): Promise<void> {
  const res = c.res!;
  res.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
    // The classic builder: the clients send a tar context and read its JSON stream (no BuildKit session).
    'Builder-Version': '1',
    'Content-Length': 2,
  });
  res.end(c.req.method === 'HEAD' ? undefined : 'OK');
}

export function versionReport(): Record<string, unknown> {
  const arch = ARCH[process.arch] ?? process.arch;
  const details = { ApiVersion: API_VERSION, Arch: arch, BuildTime: '', Experimental: 'false', GitCommit: '', GoVersion: process.version, KernelVersion: release(), MinAPIVersion: MIN_API_VERSION, Os: 'linux' };
  return {
    Platform: { Name: 'tscompose' },
    Components: [{ Name: 'Engine', Version: VERSION, Details: details }],
    Version: VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: process.version,
    Os: 'linux',
    Arch: arch,
    KernelVersion: release(),
    BuildTime: '',
  };
}

function cgroupVersion(): '1' | '2' {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => / \/sys\/fs\/cgroup(\/memory)? .* - cgroup /.test(l)) ? '1' : '2';
  } catch {
    return '2';
  }
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

async function info(c: Call): Promise<void> {
  const { engine } = c.ctx;
  const [containers, images] = await Promise.all([engine.containers.list({ all: true }), engine.images.list()]);
  const count = (s: string) => containers.filter((x) => x.state === s).length;
  const cg = cgroupVersion();
  sendJson(c.res!, 200, {
    ID: `tscompose:${hostname()}`,
    Containers: containers.length,
    ContainersRunning: count('running'),
    ContainersPaused: count('paused'),
    ContainersStopped: containers.length - count('running') - count('paused'),
    Images: images.length,
    Driver: 'overlay2',
    DriverStatus: [['Backing Filesystem', 'overlayfs layers of the native engine']],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file', 'local'] },
    MemoryLimit: true,
    SwapLimit: true,
    KernelMemory: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    BridgeNfIptables: false,
    BridgeNfIp6tables: false,
    Debug: false,
    NFd: 0,
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: cg,
    NEventsListener: c.ctx.eventListeners,
    KernelVersion: release(),
    OperatingSystem: osName(),
    OSVersion: '',
    OSType: 'linux',
    Architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: { AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [], InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: [] },
    NCPU: cpus().length,
    MemTotal: totalmem(),
    GenericResources: null,
    DockerRootDir: stateRoot(),
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    Name: hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: VERSION,
    Runtimes: { runc: { path: 'tsc-helper' } },
    DefaultRuntime: 'runc',
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: 'docker-init',
    ContainerdCommit: { ID: '', Expected: '' },
    RuncCommit: { ID: '', Expected: '' },
    InitCommit: { ID: '', Expected: '' },
    SecurityOptions: ['name=seccomp,profile=default', ...(cg === '2' ? ['name=cgroupns'] : [])],
    Warnings: [],
  });
}

/** Docker's event JSON; the old top-level status/id/from stay for containers and images, as dockerd sends them. */
export function dockerEvent(e: EngineEvent): Record<string, unknown> {
  const legacy = e.type === 'container' || e.type === 'image' ? { status: e.action, id: e.id, ...(e.type === 'container' && e.attributes.image ? { from: e.attributes.image } : {}) } : {};
  return {
    ...legacy,
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.id, Attributes: e.attributes },
    scope: 'local',
    time: Math.floor(e.time / 1000),
    timeNano: e.time * 1_000_000,
  };
}

/** Docker's time arguments: seconds since the epoch, with fractions; the value in milliseconds. */
function timeParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)} is not a Unix timestamp`);
  return Math.round(Number(v) * 1000);
}

const EVENT_FILTERS = ['type', 'label', 'container', 'image', 'event', 'network', 'volume', 'scope', 'daemon', 'plugin', 'node', 'service', 'secret', 'config'];

export function eventMatcher(f: Record<string, string[]>): (e: EngineEvent) => boolean {
  const one = (values: string[] | undefined, ...candidates: Array<string | undefined>) =>
    !values?.length || values.some((v) => candidates.some((c) => c !== undefined && (c === v || (v.length >= 12 && c.startsWith(v)))));
  return (e) => {
    if (!one(f.type, e.type) || !one(f.event, e.action, e.action.split(':')[0])) return false;
    if (f.container?.length && (e.type !== 'container' || !one(f.container, e.id, e.attributes.name))) return false;
    if (f.image?.length && !one(f.image, e.attributes.image, e.type === 'image' ? e.id : undefined, e.type === 'image' ? e.attributes.name : undefined)) return false;
    if (f.network?.length && (e.type !== 'network' || !one(f.network, e.id, e.attributes.name))) return false;
    if (f.volume?.length && (e.type !== 'volume' || !one(f.volume, e.id))) return false;
    return true;
  };
}

async function events(c: Call): Promise<void> {
  const f = parseFilters(c.query, EVENT_FILTERS);
  const since = timeParam(c.query, 'since');
  const until = timeParam(c.query, 'until');
  const matches = eventMatcher(f);
  const labels = labelFilter(f.label);
  const res = c.res!;
  const stop = new AbortController();
  const end = () => stop.abort();
  c.ctx.closing.addEventListener('abort', end);
  res.once('close', end);
  const timer = until !== undefined ? setTimeout(end, Math.max(0, until - Date.now())) : undefined;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  c.ctx.eventListeners++;
  try {
    const filter = { ...(labels ? { labels } : {}), ...(f.type?.length ? { types: f.type } : {}), ...(since !== undefined ? { since } : {}) };
    for await (const e of c.ctx.engine.events(filter, stop.signal)) {
      if (until !== undefined && e.time > until) break;
      if (matches(e)) res.write(`${JSON.stringify(dockerEvent(e))}\n`);
    }
  } finally {
    c.ctx.eventListeners--;
    clearTimeout(timer);
    c.ctx.closing.removeEventListener('abort', end);
    res.end();
  }
}

async function df(c: Call): Promise<void> {
  sendJson(c.res!, 200, await diskUsage(c.ctx.engine, boolParam(c.query, 'verbose', true)));
}

/** `docker login`: the credentials are tried against the registry; the client keeps them and sends them with each pull and push. */
async function auth(c: Call): Promise<void> {
  const body = await readJson(c.req, 'login request');
  const username = typeof body.username === 'string' ? body.username : '';
  const password = typeof body.password === 'string' ? body.password : '';
  if (!username || !password) throw badRequest('login needs a username and a password');
  const server = typeof body.serveraddress === 'string' ? body.serveraddress : undefined;
  try {
    await verifyCredentials(registryOf(server), { username, password });
  } catch (err) {
    throw new ApiError(401, errorMessage(err));
  }
  sendJson(c.res!, 200, { Status: 'Login Succeeded', IdentityToken: '' });
}

export const systemRoutes: Route[] = [
  route('GET', '/_ping', ping),
  route('HEAD', '/_ping', ping),
  route('GET', '/version', async (c) => sendJson(c.res!, 200, versionReport())),
  route('GET', '/info', info),
  route('GET', '/system/df', df),
  route('GET', '/events', events),
  route('POST', '/auth', auth),
];
