import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { commandModules, commandWord } from '../../src/cli/commands/index.js';
import { repoRoot } from '../support/cache.js';
import { VERSION } from '../../src/util/version.js';

/** The code cache's entry for a bundle file: its name, the build's id, its size and mtime (scripts/compile-cache.cjs). */
function cacheEntryName(file: string): string {
  const launcher = readFileSync(join(repoRoot, 'dist/bundle/compile-cache.cjs'), 'utf8');
  const id = /const BUILD = \{"id":"([0-9a-f]+)"/.exec(launcher)?.[1];
  if (!id) throw new Error('dist/bundle/compile-cache.cjs names no build id');
  const st = statSync(file);
  return `${file.split('/').pop()}.${id}.${st.size}.${Math.trunc(st.mtimeMs)}`;
}

describe('the command table', () => {
  it('names exactly the commands and aliases each module registers', async () => {
    for (const mod of commandModules) {
      const program = new Command().enablePositionalOptions();
      (await mod.load()).register(program);
      const registered = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
      expect(registered.sort(), `module of ${mod.commands.join(', ')}`).toEqual([...mod.commands].sort());
    }
  });

  it('gives every command word to one module only', () => {
    const words = commandModules.flatMap((m) => m.commands);
    expect(new Set(words).size).toBe(words.length);
  });
});

describe('commandWord', () => {
  it('skips global options and their values', () => {
    expect(commandWord(['-f', 'a.yaml', '-p', 'x', 'up', '-d'])).toBe('up');
    expect(commandWord(['--file=a.yaml', '--backend', 'docker', 'ps'])).toBe('ps');
    expect(commandWord(['--dry-run', '--project-directory', '/x', 'down'])).toBe('down');
    expect(commandWord(['--profile', 'dev', '--env-file', '.e', '--progress', 'plain', '--ansi', 'never', 'logs'])).toBe('logs');
    expect(commandWord(['--help'])).toBeUndefined();
    expect(commandWord([])).toBeUndefined();
  });
});

describe('the CLI', () => {
  const cli = join(repoRoot, 'bin', 'tscompose');
  it('lists every command in --help', () => {
    const help = execFileSync(cli, ['--help'], { encoding: 'utf8' });
    for (const mod of commandModules) expect(help).toMatch(new RegExp(`^  ${mod.commands[0]}\\b`, 'm'));
  });

  it('suggests the nearest command for a typo, and exits non-zero', () => {
    let status = 0;
    let stderr = '';
    try {
      execFileSync(cli, ['upp'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { status: number; stderr: string };
      status = e.status;
      stderr = e.stderr;
    }
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/unknown command 'upp'/);
    expect(stderr).toMatch(/Did you mean up\?/);
  });

  it('runs a command whose module is picked from the table', () => {
    expect(execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(execFileSync(cli, ['-p', 'x', 'config', '--help'], { encoding: 'utf8' })).toMatch(/Usage: tscompose config/);
  });
});

describe('the bundle that bin/tscompose runs', () => {
  it('is what the launcher loads, with the network daemon beside it', () => {
    expect(readFileSync(join(repoRoot, 'bin', 'tscompose'), 'utf8')).toContain("'../dist/bundle/tscompose.cjs'");
    expect(existsSync(join(repoRoot, 'dist/bundle/tscompose.cjs'))).toBe(true);
    expect(existsSync(join(repoRoot, 'dist/bundle/network-daemon.cjs'))).toBe(true);
  });

  it('keeps V8\'s code cache in the user\'s cache directory, not beside it, and makes an entry V8 rejects anew', () => {
    const cli = join(repoRoot, 'bin', 'tscompose');
    const dir = mkdtempSync(join(tmpdir(), 'tsc-v8cache-'));
    try {
      const env = { ...process.env, TSCOMPOSE_CACHE_DIR: dir };
      const cacheDir = join(dir, 'v8');
      const version = execFileSync(cli, ['--version'], { encoding: 'utf8', env });
      expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
      const entry = cacheEntryName(join(repoRoot, 'dist/bundle/cli.cjs'));
      expect(readdirSync(cacheDir)).toContain(entry);
      writeFileSync(join(cacheDir, entry!), 'not a code cache');
      expect(execFileSync(cli, ['--version'], { encoding: 'utf8', env })).toBe(version);
      expect(readFileSync(join(cacheDir, entry!), 'utf8')).not.toBe('not a code cache');
      expect(readdirSync(cacheDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(existsSync(join(repoRoot, 'dist/bundle/.v8-cache'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses no cache from a directory others may write to, nor where none can be made, and runs the same', () => {
    const cli = join(repoRoot, 'bin', 'tscompose');
    const dir = mkdtempSync(join(tmpdir(), 'tsc-v8cache-'));
    try {
      // Group- and world-writable: another user could plant code in it. Not read, not written.
      mkdirSync(join(dir, 'shared', 'v8'), { recursive: true });
      chmodSync(join(dir, 'shared', 'v8'), 0o777);
      const planted = join(dir, 'shared', 'v8', cacheEntryName(join(repoRoot, 'dist/bundle/cli.cjs')));
      writeFileSync(planted, 'planted');
      const shared = spawnSync(cli, ['--version'], { encoding: 'utf8', env: { ...process.env, TSCOMPOSE_CACHE_DIR: join(dir, 'shared') } });
      expect([shared.status, shared.stdout, shared.stderr]).toEqual([0, `${VERSION}\n`, '']);
      expect(readdirSync(join(dir, 'shared', 'v8'))).toEqual([planted.split('/').pop()]);
      expect(readFileSync(planted, 'utf8')).toBe('planted');
      // Under a regular file: no directory can be made there.
      writeFileSync(join(dir, 'file'), '');
      const none = spawnSync(cli, ['--version'], { encoding: 'utf8', env: { ...process.env, TSCOMPOSE_CACHE_DIR: join(dir, 'file', 'cache') } });
      expect([none.status, none.stdout, none.stderr]).toEqual([0, `${VERSION}\n`, '']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps root\'s cache in /var/cache/tscompose unless told otherwise', () => {
    const env = { ...process.env };
    delete env.TSCOMPOSE_CACHE_DIR;
    execFileSync(join(repoRoot, 'bin', 'tscompose'), ['--version'], { env });
    expect(existsSync(`/var/cache/tscompose/v8/${cacheEntryName(join(repoRoot, 'dist/bundle/cli.cjs'))}`)).toBe(true);
  });

  it('prunes the code cache past its size by other builds\' entries first, whatever their age', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-v8prune-'));
    try {
      const cli = join(repoRoot, 'bin', 'tscompose');
      const cacheDir = join(dir, 'v8');
      mkdirSync(cacheDir, { mode: 0o700 });
      // Another build's entries, all newer than any this run writes.
      const future = new Date(Date.now() + 3_600_000);
      for (let i = 0; i < 420; i++) {
        const f = join(cacheDir, `chunk-other${i}.cjs.0123456789abcdef.100.1`);
        writeFileSync(f, 'x');
        utimesSync(f, future, future);
      }
      execFileSync(cli, ['--version'], { env: { ...process.env, TSCOMPOSE_CACHE_DIR: dir } });
      const names = readdirSync(cacheDir);
      expect(names).toContain(cacheEntryName(join(repoRoot, 'dist/bundle/cli.cjs')));
      expect(names.length).toBe(400);
      expect(names.filter((n) => n.includes('.0123456789abcdef.')).length).toBeLessThan(420);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets the first run of each command add what it compiled to the entries it read, once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-v8widen-'));
    try {
      const cli = join(repoRoot, 'bin', 'tscompose');
      const env = { ...process.env, TSCOMPOSE_CACHE_DIR: dir, TSCOMPOSE_ROOT: join(dir, 'state'), TSCOMPOSE_RUN: join(dir, 'run') };
      const entry = join(dir, 'v8', cacheEntryName(join(repoRoot, 'dist/bundle/cli.cjs')));
      const list = () => readFileSync(join(dir, 'v8', readdirSync(join(dir, 'v8')).find((f) => f.startsWith('commands.'))!), 'utf8');
      execFileSync(cli, ['image', 'ls'], { env });
      expect(list()).toBe('image ls\n');
      const first = statSync(entry);
      // Another command: the entries it read are written again (a new file, renamed over the old one).
      execFileSync(cli, ['container', 'ls', '-a'], { env });
      expect(list()).toBe('image ls\ncontainer ls\n');
      const widened = statSync(entry);
      expect(widened.ino).not.toBe(first.ino);
      expect(widened.size).toBeGreaterThanOrEqual(first.size);
      // Its second run, and the first command's, change nothing.
      execFileSync(cli, ['container', 'ls', '-a'], { env });
      execFileSync(cli, ['image', 'ls'], { env });
      expect(statSync(entry).ino).toBe(widened.ino);
      expect(list()).toBe('image ls\ncontainer ls\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives each module the node_modules list Node would, computed once per directory', () => {
    const launcher = join(repoRoot, 'dist/bundle/compile-cache.cjs');
    const script = `
      const Module = require('node:module');
      const node = Module._nodeModulePaths('/a/b/node_modules/c/d');
      require(${JSON.stringify(launcher)});
      const first = Module._nodeModulePaths('/a/b/node_modules/c/d');
      first.push('/changed');
      const second = Module._nodeModulePaths('/a/b/node_modules/c/d');
      console.log(JSON.stringify({ same: JSON.stringify(first.slice(0, -1)) === JSON.stringify(node), kept: JSON.stringify(second) === JSON.stringify(node), root: Module._nodeModulePaths('/') }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, TSCOMPOSE_CACHE_DIR: join(tmpdir(), 'tsc-unused-cache') } })) as { same: boolean; kept: boolean; root: string[] };
    expect(out).toEqual({ same: true, kept: true, root: ['/node_modules'] });
  });

  it('gives a bundle file edited after the build an entry of its own, and runs the edit', () => {
    // A copy of the bundle, so that no other test's dist/ is touched.
    const dir = mkdtempSync(join(tmpdir(), 'tsc-v8edit-'));
    try {
      const bundle = join(dir, 'bundle');
      mkdirSync(bundle);
      for (const f of readdirSync(join(repoRoot, 'dist/bundle'))) if (f.endsWith('.cjs')) writeFileSync(join(bundle, f), readFileSync(join(repoRoot, 'dist/bundle', f)));
      const env = { ...process.env, TSCOMPOSE_CACHE_DIR: join(dir, 'cache') };
      const run = () => execFileSync(process.execPath, [join(bundle, 'tscompose.cjs'), '--version'], { encoding: 'utf8', env }).trim();
      expect(run()).toBe(VERSION);
      // The file that holds the version: same length, other content after the edit, so only the file's
      // time tells the two apart (V8 itself checks no more than the source's length).
      const declares = `VERSION = "${VERSION}"`;
      const file = join(bundle, readdirSync(bundle).find((f) => readFileSync(join(bundle, f), 'utf8').includes(declares))!);
      const before = cacheEntryName(file);
      expect(readdirSync(join(dir, 'cache/v8'))).toContain(before);
      const other = VERSION.replace(/\d/, (d) => String((Number(d) + 1) % 10));
      writeFileSync(file, readFileSync(file, 'utf8').replace(declares, `VERSION = "${other}"`));
      utimesSync(file, new Date(), new Date(Date.now() + 5000));
      expect(cacheEntryName(file)).not.toBe(before);
      expect(run()).toBe(other);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets the bundle\'s code import() as any CommonJS file can (builtins, its own chunks)', () => {
    const probe = join(repoRoot, 'dist/bundle', `probe-${process.pid}.cjs`);
    const dir = mkdtempSync(join(tmpdir(), 'tsc-v8cache-'));
    writeFileSync(probe, "module.exports = import('node:os').then((m) => typeof m.cpus);\n");
    try {
      const env = { ...process.env, TSCOMPOSE_CACHE_DIR: dir };
      const script = `require(${JSON.stringify(join(repoRoot, 'dist/bundle/compile-cache.cjs'))}); require(${JSON.stringify(probe)}).then((t) => console.log(t));`;
      // Twice: the second run is the one that would come from the code cache.
      expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env }).trim()).toBe('function');
      expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] }).trim()).toBe('function');
    } finally {
      rmSync(probe, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads the modules of the spec, the image store, the runtime and the network from its chunks', () => {
    const cli = join(repoRoot, 'bin', 'tscompose');
    const dir = mkdtempSync(join(tmpdir(), 'tsc-bundle-'));
    try {
      const env = { ...process.env, TSCOMPOSE_ROOT: join(dir, 'state'), TSCOMPOSE_RUN: join(dir, 'run') };
      const config = execFileSync(cli, ['-f', join(repoRoot, 'examples/wordpress-mysql/compose.yaml'), 'config', '--services'], { encoding: 'utf8', env });
      expect(config.split('\n').filter(Boolean).sort()).toEqual(['db', 'wordpress']);
      expect(execFileSync(cli, ['image', 'ls'], { encoding: 'utf8', env })).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID/);
      expect(execFileSync(cli, ['container', 'ls', '-a'], { encoding: 'utf8', env })).toMatch(/^CONTAINER ID\s+IMAGE/);
      expect(execFileSync(cli, ['network', 'ls'], { encoding: 'utf8', env })).toMatch(/^NETWORK ID\s+NAME\s+DRIVER/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
