import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MissingHostToolError, findTool, requireTools } from '../../src/util/host-tools.js';
import { run } from '../../src/util/proc.js';
import { shippedPlatform } from '../../src/engine/native/runtime/helper.js';
import { openEngine } from '../../src/engine/index.js';
import { repoRoot } from '../support/cache.js';

/** The host's prerequisites, checked and named (acceptance through the installed CLI: package.test.ts), and `tscompose info`. */

const dir = mkdtempSync(join(tmpdir(), 'tsc-host-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('host programs', () => {
  it('are found as a spawn would find them, and named with their packages in one line when missing', () => {
    expect(findTool('tar', '/nowhere:/usr/bin')).toBe('/usr/bin/tar');
    expect(findTool('tar', '/nowhere')).toBeUndefined();
    expect(new MissingHostToolError(['ip']).message).toBe(
      "tscompose needs `ip` (for containers' network interfaces and bridges), which is not on PATH: install the iproute2 package (apt-get install iproute2 on Debian or Ubuntu)",
    );
    const two = new MissingHostToolError(['ip', 'iptables-save', 'iptables-restore']);
    expect(two.message).toBe(
      "tscompose needs `ip` (for containers' network interfaces and bridges) and `iptables-save` and `iptables-restore` (for networks' isolation, NAT and published ports), which are not on PATH: install the iproute2 and iptables packages (apt-get install iproute2 iptables on Debian or Ubuntu)",
    );
    expect(two.message).not.toContain('\n');
    expect(two.packages).toEqual(['iproute2', 'iptables']);
    expect(() => requireTools(['sh', 'no-such-tool-here'])).toThrow(MissingHostToolError);
  });

  it('names a program the engine runs only sometimes when it first fails to start', async () => {
    const err = await run('setfattr', ['--version'], { env: { PATH: dir } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingHostToolError);
    expect((err as Error).message).toMatch(/^tscompose needs `setfattr` .* install the attr package/);
    // An unknown program stays the plain spawn error.
    expect(await run('no-such-program', []).catch((e: NodeJS.ErrnoException) => e.code)).toBe('ENOENT');
  });

  it('are checked when the native engine opens, before anything is made', async () => {
    const path = process.env.PATH;
    const state = join(dir, 'state');
    process.env.PATH = '/usr/bin:/bin'; // no /usr/sbin: no iptables-save and -restore
    process.env.TSCOMPOSE_ROOT = state;
    try {
      const err = await openEngine('native').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MissingHostToolError);
      expect((err as MissingHostToolError).tools).toContain('iptables-restore');
    } finally {
      process.env.PATH = path;
      delete process.env.TSCOMPOSE_ROOT;
    }
    expect(existsSync(state)).toBe(false);
  });

  it('say in one sentence which machines the package carries no helper for', () => {
    expect(shippedPlatform('linux', 'x64')).toBe('linux-x64');
    expect(shippedPlatform('linux', 'arm64')).toBe('linux-arm64');
    expect(() => shippedPlatform('darwin', 'arm64')).toThrow("tscompose's native engine runs on Linux on x64 and arm64, and this is darwin-arm64: use --backend docker to drive a Docker Engine instead");
  });
});

describe('tscompose info', () => {
  const info = (args: string[], env: Record<string, string | undefined> = {}) =>
    spawnSync(join(repoRoot, 'bin', 'tscompose'), ['info', ...args], { encoding: 'utf8', env: { ...process.env, TSCOMPOSE_ROOT: join(dir, 'info-state'), TSCOMPOSE_RUN: join(dir, 'info-run'), ...env } });

  it('prints the kernel, cgroups, overlayfs, the firewall, the host programs and the state roots', () => {
    const r = info([]);
    expect(r.status).toBe(0);
    for (const field of ['Kernel version', 'Kernel interfaces (floor: Linux 5.10): all present', 'Cgroup version', 'Cgroup controllers', 'Overlay filesystem: yes', 'Overlay lowerdir+', 'Firewall: iptables', `State root: ${join(dir, 'info-state')}`, `Run root: ${join(dir, 'info-run')}`, 'Containers: 0']) {
      expect(r.stdout).toContain(field);
    }
    expect(r.stdout).not.toContain('WARNING');
    const json = JSON.parse(info(['--format', 'json']).stdout) as { cgroups: { version: number; controllers: string[] }; tools: Array<{ name: string; path?: string }>; problems: string[] };
    expect(json.cgroups.controllers).toContain('memory');
    expect(json.tools.find((t) => t.name === 'ip')?.path).toBe(findTool('ip'));
    expect(json.problems).toEqual([]);
  });

  it('lists what would stop the engine as warnings, one line each, and still answers', () => {
    const r = info([], { PATH: '/usr/bin:/bin', TSCOMPOSE_ROOT: join(dir, 'warn-state') });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^  iptables-save: missing \(package iptables; for .*\)$/m);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('WARNING:'))).toEqual([`WARNING: ${new MissingHostToolError(['iptables-save', 'iptables-restore']).message}`]);
    expect(r.stdout).toContain('Backend: native (not opened: see the warnings)');
    expect(existsSync(join(dir, 'warn-state'))).toBe(false);
  });
});
