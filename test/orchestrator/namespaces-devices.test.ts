import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { BACKENDS, BUSYBOX } from './helpers.js';
import { useScenarios } from './cli.js';

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
    network_mode: none
  hosted:
    image: ${BUSYBOX}
    command: ["sleep", "600"]
    pid: host
    uts: host
    network_mode: none
    devices:
      - /dev/zero:/dev/myzero
      - /dev/null:/dev/mynull:rw
      - { source: /dev/fuse, target: /dev/fuse, permissions: r }
`;

/** The engine keeps a device list only on cgroup v1 hosts (v2 needs an eBPF filter); Docker has one on both. */
const CGROUP_V1_DEVICES = existsSync('/sys/fs/cgroup/devices/devices.list');

describe.each(BACKENDS)('shared namespaces and devices on %s', (backend) => {
  const scenario = useScenarios(backend);

  it('pid and ipc of another service, pid and uts of the host, devices in both syntaxes', async () => {
    const s = scenario();
    s.write('compose.yaml', FILE);
    const up = await s.ok(['up', '-d']);
    const sh = async (service: string, script: string) => (await s.ok(['exec', '-T', service, 'sh', '-c', script])).stdout.trim();

    // pid: service:donor — the donor's PID 1 is PID 1 here too, and ps lists it.
    expect(await sh('peer', "tr '\\0' ' ' < /proc/1/cmdline")).toBe('sleep 4242');
    expect(await sh('peer', 'ps -o args')).toContain('sleep 4242');
    expect(await sh('peer', 'readlink /proc/self/ns/pid')).toBe(await sh('donor', 'readlink /proc/self/ns/pid'));
    // As each engine's own inspect shows them (the object verbs are the native engine's; Docker's is docker's).
    const format = ['inspect', '--format', '{{.HostConfig.PidMode}} {{.HostConfig.IpcMode}}', `${s.name}-peer-1`];
    const modes = backend === 'docker' ? execFileSync('docker', format, { encoding: 'utf8' }) : (await s.ok(['container', ...format])).stdout;
    expect(modes.trim()).toMatch(/^container:[0-9a-f]{64} container:[0-9a-f]{64}$/);

    // ipc: service:donor — one IPC namespace, and one /dev/shm both ways.
    expect(await sh('peer', 'readlink /proc/self/ns/ipc')).toBe(await sh('donor', 'readlink /proc/self/ns/ipc'));
    expect(await sh('peer', 'cat /dev/shm/token')).toBe('from-donor');
    await sh('peer', 'echo from-peer > /dev/shm/back');
    expect(await sh('donor', 'cat /dev/shm/back')).toBe('from-peer');
    expect(await sh('hosted', 'ls /dev/shm')).not.toContain('token');

    // pid: host and uts: host — the host's namespaces, this very test process among the processes.
    expect(await sh('hosted', 'readlink /proc/self/ns/pid')).toBe(readlinkSync('/proc/self/ns/pid'));
    expect(await sh('hosted', `tr '\\0' ' ' < /proc/${process.pid}/cmdline`)).toContain('node');
    expect(await sh('hosted', 'readlink /proc/self/ns/uts')).toBe(readlinkSync('/proc/self/ns/uts'));
    expect(await sh('hosted', 'hostname')).toBe(hostname());
    expect(await sh('peer', 'hostname')).not.toBe(hostname());

    // devices: the host's nodes, readable and writable as listed.
    expect(await sh('hosted', 'ls -l /dev/myzero | cut -c1')).toBe('c');
    expect(await sh('hosted', 'head -c 4 /dev/myzero | od -An -tx1')).toBe('00 00 00 00');
    expect(await sh('hosted', 'echo x > /dev/mynull && head -c 4 /dev/mynull | wc -c')).toBe('0');
    // /dev/fuse, which Docker's default device rules leave out: opened for reading only, as listed.
    expect(await sh('hosted', 'true < /dev/fuse && echo opened')).toBe('opened');
    const write = await s.compose(['exec', '-T', 'hosted', 'sh', '-c', 'true > /dev/fuse']);
    if (backend === 'docker' || CGROUP_V1_DEVICES) {
      expect(write.code).not.toBe(0);
      expect(write.stderr).toMatch(/Operation not permitted/);
    } else {
      // Said at create time rather than granted silently.
      expect(up.stdout + up.stderr).toContain('/dev/fuse: permissions "r" are not enforced');
    }

    await s.ok(['down', '-t', '0']);
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  });
});
