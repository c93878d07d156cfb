import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { BACKENDS, BUSYBOX } from './helpers.js';
import { useScenarios, type Scenario } from './cli.js';
import type { BackendName } from '../../src/engine/types.js';
import { run } from '../../src/util/proc.js';

/**
 * Shared namespaces and devices, on both backends with the same assertions:
 * a service sharing another's pid and ipc namespaces (`service:donor`, the
 * donor listed after it, so that only the implicit dependency orders them)
 * sees its processes and its System V / POSIX IPC (/dev/shm); `pid: host` and
 * `uts: host` see the host's processes and name; devices in the short and the
 * long syntax are the host's nodes, usable within their permissions.
 */
const FILE = `services:
  peer:
    image: ${BUSYBOX}
    command: ["sleep", "600"]
    pid: service:donor
    ipc: service:donor
    network_mode: none
  donor:
    image: ${BUSYBOX}
    command: ["sh", "-c", "echo from-donor > /dev/shm/token; exec sleep 4242"]
    ipc: shareable
    cgroup: private
    network_mode: none
  hosted:
    image: ${BUSYBOX}
    command: ["sleep", "600"]
    pid: host
    uts: host
    ipc: host
    cgroup: host
    network_mode: none
    devices:
      - /dev/zero:/dev/myzero
      - /dev/null:/dev/mynull:rw
      - { source: /dev/fuse, target: /dev/fuse, permissions: r }
    # c 1:202 and c 1:200 are minors the mem driver does not have: an open the list lets through
    # fails with ENXIO, one it refuses with EPERM, and no hardware is touched either way.
    device_cgroup_rules: ["c 1:202 rw"]
`;

describe.each(BACKENDS)('shared namespaces and devices on %s', (backend) => {
  const scenario = useScenarios(backend);

  it('pid and ipc of another service, pid and uts of the host, devices in both syntaxes', async () => {
    const s = scenario();
    s.write('compose.yaml', FILE);
    const hostShm = `/dev/shm/${s.name}`;
    writeFileSync(hostShm, 'from-host');
    try {
      await checks(s, backend, hostShm);
    } finally {
      rmSync(hostShm, { force: true });
    }
  });
});

/** Runs the commands in one exec (a CLI call each costs more than all of them), returning each one's output, trimmed. */
async function outputs(s: Scenario, service: string, commands: string[]): Promise<string[]> {
  const script = commands.map((c) => `{ ${c}; } 2>&1; echo '--8<--'`).join('\n');
  const out = (await s.ok(['exec', '-T', service, 'sh', '-c', script])).stdout;
  return out.split('--8<--\n').slice(0, commands.length).map((x) => x.trim());
}

async function checks(s: Scenario, backend: BackendName, hostShm: string): Promise<void> {
  const up = await s.ok(['up', '-d']);
  const ns = (kind: string) => `readlink /proc/self/ns/${kind}`;

  const [donorPid, donorIpc, donorCgroupNs, donorCgroups] = await outputs(s, 'donor', [ns('pid'), ns('ipc'), ns('cgroup'), 'cat /proc/self/cgroup']);
  const [pid1, ps, peerPid, peerIpc, token, peerShm, peerHost] = await outputs(s, 'peer', [
    "tr '\\0' ' ' < /proc/1/cmdline", 'ps -o args', ns('pid'), ns('ipc'), 'cat /dev/shm/token', 'echo from-peer > /dev/shm/back; ls /dev/shm', 'hostname',
  ]);
  // pid: service:donor — the donor's PID 1 is PID 1 here too, and ps lists it.
  expect(pid1).toBe('sleep 4242');
  expect(ps).toContain('sleep 4242');
  expect(peerPid).toBe(donorPid);
  // As each engine's own inspect shows them (the object verbs are the native engine's; Docker's is docker's).
  const format = ['inspect', '--format', '{{.HostConfig.PidMode}} {{.HostConfig.IpcMode}}', `${s.name}-peer-1`];
  const modes = backend === 'docker' ? execFileSync('docker', format, { encoding: 'utf8' }) : (await s.ok(['container', ...format])).stdout;
  expect(modes.trim()).toMatch(/^container:[0-9a-f]{64} container:[0-9a-f]{64}$/);

  // ipc: service:donor — one IPC namespace, and one /dev/shm both ways; not the host's.
  expect(peerIpc).toBe(donorIpc);
  expect(token).toBe('from-donor');
  expect(peerShm.split('\n').sort()).toEqual(['back', 'token']);
  expect((await outputs(s, 'donor', ['cat /dev/shm/back']))[0]).toBe('from-peer');

  const [hostedIpc, shm, hostedPid, testProcess, hostedUts, hostedName, hostedCgroupNs, hostedCgroups, zeroType, zeros, nulls, fuseRead, ruled, unlisted] = await outputs(s, 'hosted', [
    ns('ipc'), `cat ${hostShm}`, ns('pid'), `tr '\\0' ' ' < /proc/${process.pid}/cmdline`, ns('uts'), 'hostname', ns('cgroup'), 'cat /proc/self/cgroup',
    'ls -l /dev/myzero | cut -c1', 'head -c 4 /dev/myzero | od -An -tx1', 'echo x > /dev/mynull && head -c 4 /dev/mynull | wc -c',
    'true < /dev/fuse && echo opened',
    'mknod /tmp/m202 c 1 202 && true < /tmp/m202', 'mknod /tmp/m200 c 1 200 && true < /tmp/m200',
  ]);
  // ipc: host — the host's IPC namespace and /dev/shm.
  expect(hostedIpc).toBe(readlinkSync('/proc/self/ns/ipc'));
  expect(shm).toBe('from-host');
  // pid: host and uts: host — the host's namespaces, this very test process among the processes.
  expect(hostedPid).toBe(readlinkSync('/proc/self/ns/pid'));
  expect(testProcess).toContain('node');
  expect(hostedUts).toBe(readlinkSync('/proc/self/ns/uts'));
  expect(hostedName).toBe(hostname());
  expect(peerHost).not.toBe(hostname());
  // cgroup: host — the host's cgroup namespace, where the container's cgroup shows its full path
  // (named by the container's id, on both engines); cgroup: private — a namespace of its own, rooted
  // where the container's process was put, so every path is "/".
  const paths = (lines: string) => lines.split('\n').map((l) => l.split(':').slice(2).join(':'));
  expect(hostedCgroupNs).toBe(readlinkSync('/proc/self/ns/cgroup'));
  expect(hostedCgroups).toContain((await s.ok(['ps', '-q', 'hosted'])).stdout.trim());
  expect(donorCgroupNs).not.toBe(readlinkSync('/proc/self/ns/cgroup'));
  expect(paths(donorCgroups).every((p) => p === '/'), donorCgroups).toBe(true);

  // devices: the host's nodes, readable and writable as listed.
  expect(zeroType).toBe('c');
  expect(zeros).toBe('00 00 00 00');
  expect(nulls).toBe('0');
  // /dev/fuse, which Docker's default device rules leave out: opened for reading only, as listed.
  expect(fuseRead).toBe('opened');
  const write = await s.compose(['exec', '-T', 'hosted', 'sh', '-c', 'true > /dev/fuse']);
  expect(write.code).not.toBe(0);
  expect(write.stderr).toMatch(/Operation not permitted/);
  expect(up.stdout + up.stderr).not.toMatch(/not enforced/);
  // device_cgroup_rules: the rule's device passes the list (the driver answers), another one does not.
  expect(ruled).toMatch(/No such device or address/);
  expect(unlisted).toMatch(/Operation not permitted/);
  const rulesFormat = ['inspect', '--format', '{{json .HostConfig.DeviceCgroupRules}}', `${s.name}-hosted-1`];
  const rules = backend === 'docker' ? execFileSync('docker', rulesFormat, { encoding: 'utf8' }) : (await s.ok(['container', ...rulesFormat])).stdout;
  expect(JSON.parse(rules)).toEqual(['c 1:202 rw']);

  // The donor stopped, its pid namespace is gone with its PID 1 (the peer too): the peer cannot start alone.
  await s.ok(['stop', '-t', '0', 'donor']);
  const peer = `${s.name}-peer-1`;
  const start = backend === 'docker' ? await run('docker', ['start', peer]) : await s.compose(['container', 'start', peer]);
  expect(start.code).not.toBe(0);
  expect(start.stderr).toMatch(/not running|non running/);

  await s.ok(['down', '-t', '0']);
  expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
}
