import { describe, expect, it } from 'vitest';
import { applyProbe, decideRestart, nextProbeDelay, truncateOutput, type HealthState } from '../../src/engine/native/supervisor/policy.js';
import { formatDuration } from '../../src/engine/native/supervisor/probe.js';
import { probeArgv, resolveHealthcheck } from '../../src/engine/native/engine/healthcheck.js';
import { planCreate, tmpfsMounts } from '../../src/engine/native/engine/create-plan.js';
import { normalizeSignal } from '../../src/engine/native/engine/containers.js';
import { stateOf, toDetails, toSummary, type ContainerFacts } from '../../src/engine/native/engine/details.js';
import { matchesFilter } from '../../src/engine/native/engine/events.js';
import { UserError } from '../../src/util/errors.js';
import type { ContainerCreateRequest } from '../../src/engine/types.js';
import type { ImageRecord } from '../../src/engine/native/image/index.js';
import type { ContainerInspect } from '../../src/engine/native/runtime/index.js';
import type { ResolvedHealthcheck } from '../../src/engine/native/engine/records.js';

/**
 * The native Engine's decisions without a kernel: Docker's restart manager
 * (backoff, retry limits, manual stops), Docker 25's healthcheck schedule and
 * state machine, the merge of a healthcheck with the image's, and the
 * translation of a create spec (what is honoured, what is refused).
 */

const zero = { restartCount: 0, backoffMs: 0 };
const exit = (code: number, runMs = 0, o: { manuallyStopped?: boolean; stopRequested?: boolean } = {}) => ({
  exitCode: code, runMs, manuallyStopped: o.manuallyStopped ?? false, stopRequested: o.stopRequested ?? false,
});

describe('restart policy (moby restartmanager)', () => {
  it('backs off 100 ms, doubling to a minute, and starts over after 10 s of running', () => {
    let s = zero;
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      const d = decideRestart({ name: 'always' }, exit(1, 50), s);
      expect(d.restart).toBe(true);
      delays.push(d.delayMs);
      s = d.next;
    }
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
    expect(s.restartCount).toBe(12);
    const long = decideRestart({ name: 'always' }, exit(1, 10_000), s);
    expect(long.delayMs).toBe(100);
  });

  it('on-failure restarts non-zero exits only, up to its retry count', () => {
    expect(decideRestart({ name: 'on-failure' }, exit(0), zero).restart).toBe(false);
    let s = zero;
    const outcomes: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const d = decideRestart({ name: 'on-failure', maxRetries: 2 }, exit(3), s);
      outcomes.push(d.restart);
      s = d.next;
    }
    expect(outcomes).toEqual([true, true, false, false]);
    expect(s.restartCount).toBe(2);
    // No limit: on and on.
    expect(decideRestart({ name: 'on-failure' }, exit(3), { restartCount: 1000, backoffMs: 60_000 }).restart).toBe(true);
  });

  it('a stop or kill by the user is never undone; unless-stopped also respects a kill with another signal', () => {
    for (const name of ['always', 'unless-stopped', 'on-failure'] as const) {
      expect(decideRestart({ name }, exit(137, 0, { stopRequested: true, manuallyStopped: true }), zero).restart).toBe(false);
    }
    expect(decideRestart({ name: 'unless-stopped' }, exit(1, 0, { manuallyStopped: true }), zero).restart).toBe(false);
    expect(decideRestart({ name: 'always' }, exit(1, 0, { manuallyStopped: true }), zero).restart).toBe(true);
    expect(decideRestart({ name: 'no' }, exit(1), zero).restart).toBe(false);
  });
});

const hc = (o: Partial<ResolvedHealthcheck> = {}): ResolvedHealthcheck => ({
  test: ['CMD', 'true'], interval: 30_000, timeout: 30_000, retries: 3, startPeriod: 0, startInterval: 5_000, ...o,
});
const starting: HealthState = { startedAt: 't', status: 'starting', failingStreak: 0, log: [] };
const probe = (exitCode: number, start = 0) => ({ start, end: start + 5, exitCode, output: `exit ${exitCode}` });

describe('healthcheck (daemon/health.go, Docker 25+)', () => {
  it('probes at the start interval while starting inside the start period, else at the interval', () => {
    const h = hc({ interval: 10_000, startInterval: 500, startPeriod: 60_000 });
    expect(nextProbeDelay(h, 0, 'starting')).toBe(500);
    expect(nextProbeDelay(h, 59_999, 'starting')).toBe(500);
    expect(nextProbeDelay(h, 60_000, 'starting')).toBe(10_000);
    expect(nextProbeDelay(h, 1_000, 'healthy')).toBe(10_000);
    expect(nextProbeDelay(hc({ interval: 2_000 }), 0, 'starting')).toBe(2_000);
  });

  it('failures inside the start period do not count while starting; then the streak makes it unhealthy', () => {
    const h = hc({ retries: 2, startPeriod: 1_000 });
    let s = applyProbe(h, starting, probe(1, 500), 0);
    expect(s).toMatchObject({ status: 'starting', failingStreak: 0 });
    s = applyProbe(h, s, probe(1, 1_500), 0);
    expect(s).toMatchObject({ status: 'starting', failingStreak: 1 });
    s = applyProbe(h, s, probe(1, 2_500), 0);
    expect(s).toMatchObject({ status: 'unhealthy', failingStreak: 2 });
    s = applyProbe(h, s, probe(0, 3_500), 0);
    expect(s).toMatchObject({ status: 'healthy', failingStreak: 0 });
    // Once healthy, a failure inside the start period counts.
    expect(applyProbe(h, { ...s, failingStreak: 0 }, probe(1, 100), 0)).toMatchObject({ status: 'healthy', failingStreak: 1 });
    expect(s.log.map((l) => l.exitCode)).toEqual([1, 1, 1, 0]);
  });

  it('keeps the last five results, and at most 4096 bytes of output each', () => {
    let s = starting;
    for (let i = 0; i < 8; i++) s = applyProbe(hc(), s, probe(i % 2, i), 0);
    expect(s.log.map((l) => l.start)).toEqual([3, 4, 5, 6, 7]);
    expect(truncateOutput(Buffer.alloc(5000, 'x'))).toHaveLength(4096);
  });

  it('merges the spec over the image field by field, with Docker\'s defaults; NONE disables', () => {
    const image = { Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 5e9, Retries: 7, StartPeriod: 2e9 };
    expect(resolveHealthcheck(undefined, image, 'c')).toEqual({ test: ['CMD-SHELL', 'curl -f localhost'], interval: 5_000, timeout: 30_000, retries: 7, startPeriod: 2_000, startInterval: 5_000 });
    expect(resolveHealthcheck({ test: [], interval: 1_000 }, image, 'c')).toMatchObject({ test: ['CMD-SHELL', 'curl -f localhost'], interval: 1_000, retries: 7 });
    expect(resolveHealthcheck({ test: ['NONE'] }, image, 'c')).toBeUndefined();
    expect(resolveHealthcheck(undefined, undefined, 'c')).toBeUndefined();
    expect(resolveHealthcheck({ test: ['CMD', 'true'] }, undefined, 'c')).toEqual(hc());
    expect(() => resolveHealthcheck({ test: ['RUN', 'x'] }, undefined, 'web-1')).toThrow(/web-1: healthcheck test must start with CMD/);
    expect(() => resolveHealthcheck({ test: ['CMD-SHELL'] }, undefined, 'web-1')).toThrow(/has no command/);
  });

  it('runs CMD as given and CMD-SHELL through /bin/sh -c; durations read as Go prints them', () => {
    expect(probeArgv(hc({ test: ['CMD', 'wget', '-q', 'http://x/'] }))).toEqual(['wget', '-q', 'http://x/']);
    expect(probeArgv(hc({ test: ['CMD-SHELL', 'test -f /ready'] }))).toEqual(['/bin/sh', '-c', 'test -f /ready']);
    expect([300, 1_000, 1_500, 90_000].map(formatDuration)).toEqual(['300ms', '1s', '1.5s', '1m30s']);
  });
});

const image = {
  id: 'sha256:' + 'a'.repeat(64),
  repoTags: ['img:1'],
  repoDigests: [],
  created: '2026-01-01T00:00:00Z',
  config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { ExposedPorts: { '3306/tcp': {} }, Labels: { from: 'image', over: 'image' }, StopSignal: 'SIGWINCH' } },
  chainIds: [],
  size: 0,
} as unknown as ImageRecord;
const noRuntime = { inspect: async () => { throw new Error('no such container'); }, cgroups: { supportsBlkioWeight: () => false } } as never;
const spec = (o: Partial<ContainerCreateRequest> = {}): ContainerCreateRequest & { name: string } => ({ name: 'p-web-1', image: 'img:1', labels: { over: 'spec' }, ...o });

describe('create spec → runtime spec', () => {
  it('maps resources, security, mounts and the Engine record', async () => {
    const plan = await planCreate(spec({
      env: { A: '1' },
      resources: { memory: 64 << 20, nanoCpus: 1.5e9, pidsLimit: 50, shmSize: 1 << 20, ulimits: [{ name: 'nofile', soft: 10, hard: 20 }] },
      securityOpt: ['no-new-privileges:true', 'seccomp=unconfined'],
      capAdd: ['NET_ADMIN'], capDrop: ['ALL'], readOnly: true, init: true, user: '1000', workingDir: '/w',
      tmpfs: { '/run': 'size=1m,mode=1777' },
      mounts: [{ type: 'volume', source: '', target: '/anon' }, { type: 'bind', source: '/tmp', target: '/host', readOnly: true }],
      ports: [{ target: 80, protocol: 'tcp', published: '8080' }],
      exposedPorts: ['9000'],
      restart: { name: 'on-failure', maxRetries: 3 },
      healthcheck: { test: ['CMD', 'true'], interval: 100 },
    }), image, noRuntime);
    expect(plan.runtime).toMatchObject({
      env: ['A=1'], user: '1000', workingDir: '/w', readOnlyRootfs: true, init: true, capAdd: ['NET_ADMIN'], capDrop: ['ALL'],
      noNewPrivileges: true, seccomp: 'unconfined', stopSignal: 'SIGWINCH', shmSize: 1 << 20,
      resources: { memory: 64 << 20, cpus: 1.5, pidsLimit: 50 }, ulimits: [{ name: 'nofile', soft: 10, hard: 20 }],
      labels: { from: 'image', over: 'spec' },
    });
    expect(plan.runtime.mounts).toEqual([
      { type: 'volume', source: '', target: '/anon', readOnly: false },
      { type: 'bind', source: '/tmp', target: '/host', readOnly: true, options: { createHostPath: false } },
      { type: 'tmpfs', target: '/run', readOnly: false, options: { tmpfsSize: 1 << 20, tmpfsMode: 0o1777 } },
    ]);
    expect(plan.record).toMatchObject({
      restart: { name: 'on-failure', maxRetries: 3 }, stopSignalSet: true, autoRemove: false,
      exposedPorts: ['80/tcp', '3306/tcp', '9000/tcp'], ports: [{ target: 80, protocol: 'tcp', published: '8080' }],
      healthcheck: { test: ['CMD', 'true'], interval: 100, retries: 3 },
    });
    expect(plan.network).toMatchObject({ kind: 'bridge', endpoints: [] });
  });

  it('refuses what the native engine cannot honour, naming the container and the option', async () => {
    const refused: Array<[Partial<ContainerCreateRequest>, RegExp]> = [
      [{ pid: 'bogus' }, /p-web-1: invalid pid mode "bogus"/],
      [{ ipc: 'container:gone' }, /ipc: container:gone names a container that does not exist/],
      [{ uts: 'container:x' }, /invalid UTS mode "container:x"/],
      [{ uts: 'host', hostname: 'h' }, /conflicting options: hostname and the UTS mode/],
      [{ resources: { devices: [{ host: '/etc/hostname', container: '/dev/x', permissions: 'rwm' }] } }, /device \/etc\/hostname: not a device node/],
      [{ resources: { devices: [{ host: '/dev/nonexistent-x', container: '/dev/x', permissions: 'rwm' }] } }, /no such device on this host/],
      [{ resources: { devices: [{ host: '/dev/null', container: '/dev/x', permissions: 'rx' }] } }, /invalid device permissions "rx"/],
      [{ securityOpt: ['apparmor:x', 'label=disable', 'systempaths=unconfined'] }, /security_opt "systempaths=unconfined"/],
      [{ logging: { driver: 'syslog' } }, /logging driver "syslog"/],
      [{ macAddress: '02:42:ac:11:00:02' }, /mac_address/],
      [{ mounts: [{ type: 'volume', source: 'v', target: '/v', subpath: 'x' }] }, /subpath of \/v/],
      [{ networkMode: 'host', ports: [{ target: 80, protocol: 'tcp' }] }, /port publishing and network_mode host/],
      [{ restart: { name: 'always' }, autoRemove: true }, /AutoRemove/],
      [{ restart: { name: 'always', maxRetries: 2 } }, /maximum retry count cannot be used with restart policy 'always'/],
      [{ platform: 'linux/s390x' }, /platform linux\/s390x does not match/],
    ];
    for (const [o, msg] of refused) {
      const err = await planCreate(spec(o), image, noRuntime).then(() => undefined, (e: unknown) => e);
      expect(err, JSON.stringify(o)).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(msg);
    }
    const warned = await planCreate(spec({ securityOpt: ['label=disable'], resources: { blkioWeight: 10 } }), image, noRuntime);
    expect(warned.warnings).toHaveLength(2);
    expect(warned.warnings.join('\n')).toMatch(/does not support Block I\/O weight.*Weight discarded/);
    expect(warned.runtime.resources?.blkioWeight).toBeUndefined();
    // Where the kernel has an I/O weight it is applied, as cpusets are.
    const withWeight = { ...(noRuntime as object), cgroups: { supportsBlkioWeight: () => true } } as never;
    const applied = await planCreate(spec({ resources: { blkioWeight: 300, cpusetCpus: '0', cpusetMems: '0' } }), image, withWeight);
    expect(applied.warnings).toEqual([]);
    expect(applied.runtime.resources).toMatchObject({ blkioWeight: 300, cpusetCpus: '0', cpusetMems: '0' });
  });

  it('shares namespaces by id, maps devices and checks device cgroup rules (no warning on cgroup v2, which filters with eBPF)', async () => {
    const other = { inspect: async () => ({ Id: 'f'.repeat(64) }), cgroups: { version: 2, supportsBlkioWeight: () => false } } as never;
    const devices = [{ host: '/dev/null', container: '/dev/x', permissions: 'r' }, { host: '/dev/zero', container: '', permissions: '' }];
    const plan = await planCreate(spec({ pid: 'container:donor', ipc: 'host', uts: 'host', resources: { devices, deviceCgroupRules: ['c 1:202 rw'] } }), image, other);
    expect(plan.runtime.namespaces).toEqual({ pid: { container: 'f'.repeat(64) }, ipc: 'host', uts: 'host' });
    expect(plan.runtime.devices).toEqual([
      { host: '/dev/null', container: '/dev/x', permissions: 'r' }, { host: '/dev/zero', container: '/dev/zero', permissions: 'rwm' },
    ]);
    expect(plan.runtime.deviceCgroupRules).toEqual(['c 1:202 rw']);
    expect(plan.warnings).toEqual([]);
    await expect(planCreate(spec({ resources: { deviceCgroupRules: ['c 1:3 rx'] } }), image, other)).rejects.toThrow(/invalid device cgroup rule "c 1:3 rx"/);
    const own = await planCreate(spec({ pid: 'private', ipc: 'shareable', uts: 'private' }), image, other);
    expect(own.runtime.namespaces).toBeUndefined();
  });

  it('parses tmpfs options and refuses unknown ones', () => {
    expect(tmpfsMounts({ '/a': '', '/b': 'ro,size=64k,noexec' }, 'c')).toEqual([
      { type: 'tmpfs', target: '/a', readOnly: false, options: {} },
      { type: 'tmpfs', target: '/b', readOnly: true, options: { tmpfsSize: 64 << 10 } },
    ]);
    expect(() => tmpfsMounts({ '/a': 'uid=5' }, 'c')).toThrow(/tmpfs option "uid=5"/);
    expect(() => tmpfsMounts({ '/a': 'size=big' }, 'c')).toThrow(/invalid tmpfs size/);
  });

  it('normalizes signal names as Docker takes them', () => {
    expect(['TERM', 'sigkill', '15', 'SIGWINCH'].map(normalizeSignal)).toEqual(['SIGTERM', 'SIGKILL', 'SIGTERM', 'SIGWINCH']);
  });
});

describe('container state as Docker reports it', () => {
  const info = (o: Partial<ContainerInspect['State']> = {}): ContainerInspect => ({
    Id: 'f'.repeat(64), Created: '2026-01-01T00:00:00.000000000Z', Path: 'sh', Args: ['-c', 'sleep 1'],
    State: { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 42, ExitCode: 0, Error: '', StartedAt: '2026-01-01T00:00:01.123456789Z', FinishedAt: '0001-01-01T00:00:00Z', ...o },
    Image: 'sha256:x', ResolvConfPath: '', HostnamePath: '', HostsPath: '', LogPath: '', Name: '/p-web-1', RestartCount: 0, Driver: 'overlay2', Platform: 'linux',
    GraphDriver: { Name: 'overlay2', Data: { LowerDir: '', MergedDir: '', UpperDir: '', WorkDir: '' } },
    HostConfig: {} as ContainerInspect['HostConfig'], Mounts: [],
    Config: { Hostname: 'h', Domainname: '', User: '', Tty: false, OpenStdin: false, Env: [], Cmd: null, Image: 'img:1', Volumes: null, WorkingDir: '', Entrypoint: null, Labels: {} },
  });
  const facts = (o: Partial<ContainerFacts> = {}): ContainerFacts => ({
    info: info(), record: { id: 'f'.repeat(64), restart: { name: 'always' }, stopSignalSet: false, autoRemove: false, networks: [], ports: [], exposedPorts: ['80/tcp'] },
    paused: false, ports: [{ target: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8080 }], networks: {}, ...o,
  });
  const hcRecord = { ...facts().record, healthcheck: hc() };

  it('paused, restarting, health of this run only, ports while running', () => {
    expect(stateOf(facts({ paused: true }))).toBe('paused');
    const exited = info({ Status: 'exited', Running: false, ExitCode: 1, FinishedAt: '2026-01-01T00:00:02Z' });
    const restarting = { generation: 2, restartCount: 3, backoffMs: 400, restarting: true };
    expect(stateOf(facts({ info: exited, intent: { generation: 2, wanted: 'running', manuallyStopped: false, bootId: 'b' }, supervisor: restarting }))).toBe('restarting');
    // An explicit start since (generation 3) or a stop: no longer restarting.
    expect(stateOf(facts({ info: exited, intent: { generation: 3, wanted: 'running', manuallyStopped: false, bootId: 'b' }, supervisor: restarting }))).toBe('exited');
    expect(stateOf(facts({ info: exited, intent: { generation: 2, wanted: 'stopped', manuallyStopped: true, bootId: 'b' }, supervisor: restarting }))).toBe('exited');

    const run = info().State.StartedAt;
    const old = { generation: 0, restartCount: 0, backoffMs: 0, restarting: false, health: { startedAt: 'an earlier run', status: 'unhealthy' as const, failingStreak: 3, log: [] } };
    expect(toDetails(facts({ record: hcRecord, supervisor: old })).health).toBe('starting');
    const now = { ...old, health: { ...old.health, startedAt: run, status: 'healthy' as const, failingStreak: 0 } };
    const d = toDetails(facts({ record: hcRecord, supervisor: now }));
    expect(d.health).toBe('healthy');
    expect(d.status).toMatch(/^Up .* \(healthy\)$/);
    expect(d.ports).toEqual([{ target: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8080 }]);
    expect(d.restartPolicy).toEqual({ name: 'always' });
    expect(d.command).toBe("sh -c 'sleep 1'");
    const s = toSummary(toDetails(facts({ info: exited, record: hcRecord, supervisor: now })));
    expect(s).toMatchObject({ state: 'exited', exitCode: 1, ports: [] });
    expect(s.health).toBeUndefined();
  });

  it('events match by type and labels', () => {
    const e = { time: 0, type: 'container', action: 'start', id: 'x', attributes: { 'com.docker.compose.project': 'p', name: 'p-a-1' } };
    expect(matchesFilter(e, { types: ['container'], labels: { 'com.docker.compose.project': 'p' } })).toBe(true);
    expect(matchesFilter(e, { labels: { 'com.docker.compose.project': 'q' } })).toBe(false);
    expect(matchesFilter(e, { labels: { 'com.docker.compose.project': undefined } })).toBe(true);
    expect(matchesFilter(e, { types: ['network'] })).toBe(false);
  });
});
