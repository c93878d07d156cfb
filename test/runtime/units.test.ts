import { describe, it, expect, afterEach } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { parseBytes, parseDuration, parseEnv, parseMountFlag, parseTmpfsFlag, parseUlimit, parseVolumeFlag } from '../../src/cli/container/flags.js';
import { resolveUser } from '../../src/engine/native/runtime/users.js';
import { readRootfsFile } from '../../src/engine/native/runtime/rootfs-files.js';
import { capHex, resolveCapabilities } from '../../src/engine/native/runtime/caps.js';
import { hostsFile } from '../../src/engine/native/runtime/etc-files.js';
import { parseExtraHost } from '../../src/util/etc-hosts.js';
import { mergeEnv, resolveCommand } from '../../src/engine/native/runtime/create.js';
import { parseSignal } from '../../src/engine/native/runtime/signals.js';
import { escapeField } from '../../src/engine/native/runtime/helper.js';
import type { ImageRecord } from '../../src/engine/native/runtime/images.js';

/** The runtime's pure pieces: flag syntax, user resolution through layers, capabilities, /etc files, commands. */
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('docker run flag syntax', () => {
  it('parses sizes, durations, env, volumes, mounts, tmpfs and ulimits, naming the flag at fault', () => {
    expect([parseBytes('512m', '-m'), parseBytes('1g', '-m'), parseBytes('100k', '-m'), parseBytes('64MB', '-m'), parseBytes('1024', '-m')])
      .toEqual([512 * 2 ** 20, 2 ** 30, 102400, 64 * 2 ** 20, 1024]);
    expect(() => parseBytes('lots', '--memory')).toThrow('invalid value "lots" for --memory');
    expect([parseDuration('1h30m'), parseDuration('45s'), parseDuration('10m'), parseDuration('x')]).toEqual([5400_000, 45_000, 600_000, undefined]);
    process.env.TSC_UNIT_FROM_HOST = 'yes';
    expect(parseEnv(['A=1', 'TSC_UNIT_FROM_HOST', 'TSC_UNIT_UNSET'], [])).toEqual(['A=1', 'TSC_UNIT_FROM_HOST=yes']);
    expect(() => parseEnv(['=x'], [])).toThrow(/invalid environment variable "=x"/);
    expect(parseVolumeFlag('/host:/c:ro')).toMatchObject({ type: 'bind', source: '/host', target: '/c', readOnly: true });
    expect(parseVolumeFlag('data:/c')).toMatchObject({ type: 'volume', source: 'data', target: '/c', readOnly: false });
    expect(parseVolumeFlag('/anon')).toMatchObject({ type: 'volume', source: undefined, target: '/anon' });
    expect(parseVolumeFlag('data:/c:nocopy').options).toEqual({ noCopy: true });
    expect(() => parseVolumeFlag('data:rel')).toThrow(/mount path must be absolute/);
    expect(() => parseVolumeFlag('a:/b:bogus')).toThrow(/unknown option "bogus"/);
    expect(parseMountFlag('type=bind,src=/x,dst=/y,readonly')).toMatchObject({ type: 'bind', source: '/x', target: '/y', readOnly: true });
    expect(parseMountFlag('type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770').options).toEqual({ tmpfsSize: 2 ** 20, tmpfsMode: 0o1770 });
    expect(() => parseMountFlag('type=volume,source=v')).toThrow(/target is required/);
    expect(parseTmpfsFlag('/run:size=64m,mode=755')).toMatchObject({ type: 'tmpfs', target: '/run', options: { tmpfsSize: 64 * 2 ** 20, tmpfsMode: 0o755 } });
    expect(parseUlimit('nofile=1024:2048')).toEqual({ name: 'nofile', soft: 1024, hard: 2048 });
    expect(() => parseUlimit('nofile')).toThrow('invalid --ulimit "nofile"');
  });
});

describe('users and files read through overlay layers', () => {
  function layers(): { upper: string; lower: string } {
    dir = mkdtempSync(join(tmpdir(), 'tsc-layers-'));
    const lower = join(dir, 'lower');
    const upper = join(dir, 'upper');
    mkdirSync(join(lower, 'etc'), { recursive: true });
    mkdirSync(join(upper, 'etc'), { recursive: true });
    writeFileSync(join(lower, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
    writeFileSync(join(lower, 'etc/group'), 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n');
    return { upper, lower };
  }

  it('resolves users as runc does: names, numbers, groups, supplementary groups', () => {
    const { upper, lower } = layers();
    const L = [upper, lower];
    expect(resolveUser(L, '')).toEqual({ uid: 0, gid: 0, groups: [0], home: '/root' });
    expect(resolveUser(L, 'app')).toEqual({ uid: 1000, gid: 1000, groups: [1000, 50], home: '/home/app' });
    expect(resolveUser(L, '1000:staff')).toEqual({ uid: 1000, gid: 50, groups: [50], home: '/home/app' });
    expect(resolveUser(L, '4242')).toEqual({ uid: 4242, gid: 0, groups: [0], home: '/' });
    expect(resolveUser(L, 'app', ['root', '7'])).toEqual({ uid: 1000, gid: 1000, groups: [1000, 50, 0, 7], home: '/home/app' });
    expect(() => resolveUser(L, 'nobody')).toThrow('unable to find user nobody: no matching entries in passwd file');
    expect(() => resolveUser(L, 'app:nogroup')).toThrow('unable to find group nogroup');
  });

  it('honours whiteouts and resolves symlinks inside the root, never on the host', () => {
    const { upper, lower } = layers();
    // The upper layer deletes /etc/group (a whiteout is a char device 0:0) and points passwd at the host's shadow.
    execFileSync('mknod', [join(upper, 'etc/group'), 'c', '0', '0']);
    symlinkSync('/etc/shadow', join(upper, 'etc/passwd'));
    mkdirSync(join(lower, 'etc/shadow-dir'));
    expect(readRootfsFile([upper, lower], '/etc/group')).toBeUndefined();
    // /etc/shadow inside this root does not exist: the host's is never read.
    expect(readRootfsFile([upper, lower], '/etc/passwd')).toBeUndefined();
    writeFileSync(join(lower, 'etc/shadow'), 'image shadow\n');
    expect(readRootfsFile([upper, lower], '/etc/passwd')).toBe('image shadow\n');
    symlinkSync('../../../../../../etc', join(upper, 'up'));
    expect(readRootfsFile([upper, lower], '/up/shadow')).toBe('image shadow\n');
  });
});

describe('capabilities, /etc files, commands, signals, the helper config', () => {
  it('computes Docker\'s capability sets', () => {
    expect(capHex(resolveCapabilities({}))).toBe('00000000a80425fb');
    expect(capHex(resolveCapabilities({ capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'] }))).toBe('0000000000000400');
    // Docker's set, plus NET_ADMIN (bit 12), minus MKNOD (27) and NET_RAW (13).
    expect(capHex(resolveCapabilities({ capAdd: ['cap_net_admin'], capDrop: ['MKNOD', 'NET_RAW'] }))).toBe('00000000a00415fb');
    expect(() => resolveCapabilities({ capAdd: ['FLY'] })).toThrow('unknown capability "FLY" in cap_add');
  });

  it('writes hosts files with extra hosts, IPv6 in brackets included', () => {
    expect(parseExtraHost('db:10.0.0.1')).toEqual({ name: 'db', ip: '10.0.0.1' });
    expect(parseExtraHost('v6:[fd00::1]')).toEqual({ name: 'v6', ip: 'fd00::1' });
    expect(() => parseExtraHost('nocolon')).toThrow('invalid extra host "nocolon"');
    expect(() => parseExtraHost('gw:host-gateway')).toThrow(/host-gateway needs a bridge network/);
    const hosts = hostsFile({ mode: 'netns', path: '/x', hosts: '127.0.0.1\tlocalhost\n10.1.0.2\tweb\n', resolvConf: '' }, ['db:10.0.0.1']);
    expect(hosts).toBe('127.0.0.1\tlocalhost\n10.1.0.2\tweb\n10.0.0.1\tdb\n');
  });

  it('combines entrypoint and cmd as Docker does, and merges environments', () => {
    const image = { config: { config: { Entrypoint: ['/entry'], Cmd: ['default'], Env: ['PATH=/bin', 'A=1'] } } } as unknown as ImageRecord;
    expect(resolveCommand({ image: 'x' }, image)).toEqual(['/entry', 'default']);
    expect(resolveCommand({ image: 'x', cmd: ['other'] }, image)).toEqual(['/entry', 'other']);
    expect(resolveCommand({ image: 'x', entrypoint: ['/sh'] }, image)).toEqual(['/sh']);
    expect(() => resolveCommand({ image: 'x', entrypoint: [] }, image)).toThrow('No command specified');
    expect(mergeEnv(['PATH=/bin', 'A=1'], ['A=2', 'B=3'])).toEqual(['PATH=/bin', 'A=2', 'B=3']);
    expect([parseSignal('TERM'), parseSignal('SIGKILL'), parseSignal('15'), parseSignal('sigusr1')]).toEqual([15, 9, 15, 10]);
    expect(() => parseSignal('SIGNOPE')).toThrow(/invalid signal "SIGNOPE"/);
    expect(escapeField('a b\\c\nd\te')).toBe('a\\sb\\\\c\\nd\\te');
    expect(escapeField('')).toBe('\\e');
    expect(() => escapeField('nul\0')).toThrow(/NUL bytes/);
  });
});
