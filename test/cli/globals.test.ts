import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { CliContext, orphanOptions } from '../../src/cli/context.js';
import { refuseCompatibility } from '../../src/cli/project-options.js';
import type { GlobalOptions } from '../../src/cli/global-options.js';
import type { Project } from '../../src/project/types.js';
import { rejection } from '../support/rejection.js';

/**
 * The global flags and the COMPOSE_* variables Compose v2 reads, through the
 * real program: a probe command is added beside the real ones and reports
 * what its action would see (no engine, no compose file).
 */
async function globalsOf(argv: string[], env: Record<string, string> = {}): Promise<GlobalOptions> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const program = await buildProgram(['version']); // loads one command module; the probe is added beside it
    program.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    let seen: GlobalOptions = {};
    program.command('probe').action((_o: unknown, cmd: Command) => {
      seen = cmd.optsWithGlobals() as GlobalOptions;
    });
    await program.parseAsync(['node', 'tscompose', ...argv, 'probe']);
    return seen;
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

/** The options a real verb's command sees for `argv` after the verb (its action is not run). */
async function verbOptions(path: string[], argv: string[]): Promise<Record<string, unknown>> {
  const program = await buildProgram(path);
  let cmd: Command | undefined = program;
  for (const name of path) cmd = cmd?.commands.find((c) => c.name() === name);
  if (!cmd) throw new Error(`no command ${path.join(' ')}`);
  cmd.exitOverride();
  const { unknown } = cmd.parseOptions(argv);
  if (unknown.length) throw new Error(`unknown options: ${unknown.join(' ')}`);
  return cmd.optsWithGlobals();
}

describe('--progress after the verb, as Compose v2 takes it', () => {
  it('up, ps, build and the others take it after the verb; image build has its own', async () => {
    expect((await verbOptions(['up'], ['--progress', 'plain'])).progress).toBe('plain');
    expect((await verbOptions(['ps'], ['--progress', 'quiet'])).progress).toBe('quiet');
    expect((await verbOptions(['build'], ['--progress', 'json'])).progress).toBe('json');
    expect((await verbOptions(['image', 'build'], ['--progress', 'plain', '.'])).progress).toBe('plain');
    expect((await verbOptions(['image', 'build'], ['--progress', 'rawjson', '.'])).progress).toBe('rawjson');
    const bad = await rejection(verbOptions(['up'], ['--progress', 'fancy']));
    expect(bad).toBeInstanceOf(CommanderError);
    expect(bad.message).toMatch(/Allowed choices are auto, tty, plain, json, quiet/);
  });
});

describe('global flags and COMPOSE_* variables', () => {
  afterEach(() => vi.restoreAllMocks());

  it('COMPOSE_ANSI is --ansi\'s default; the flag wins; a bad value is refused', async () => {
    expect((await globalsOf([])).ansi).toBe('auto');
    expect((await globalsOf([], { COMPOSE_ANSI: 'never' })).ansi).toBe('never');
    expect((await globalsOf(['--ansi', 'always'], { COMPOSE_ANSI: 'never' })).ansi).toBe('always');
    expect((await rejection(globalsOf([], { COMPOSE_ANSI: 'sometimes' }))).message).toMatch(/Allowed choices are never, always, auto/);
  });

  it('--parallel and COMPOSE_PARALLEL_LIMIT: an integer, -1 by default', async () => {
    expect((await globalsOf([])).parallel).toBe(-1);
    expect((await globalsOf([], { COMPOSE_PARALLEL_LIMIT: '3' })).parallel).toBe(3);
    expect((await globalsOf(['--parallel', '2'], { COMPOSE_PARALLEL_LIMIT: '3' })).parallel).toBe(2);
    expect((await rejection(globalsOf([], { COMPOSE_PARALLEL_LIMIT: 'lots' }))).message).toMatch(/give an integer/);
  });

  it('--all-resources and --compatibility are taken; compatibility (flag or COMPOSE_COMPATIBILITY) is refused in one sentence', async () => {
    expect((await globalsOf(['--all-resources'])).allResources).toBe(true);
    expect((await globalsOf(['--compatibility'])).compatibility).toBe(true);
    expect(() => refuseCompatibility({ compatibility: true }, {})).toThrow(/--compatibility is not supported: tscompose names containers <project>-<service>-<n>/);
    expect(() => refuseCompatibility({}, { COMPOSE_COMPATIBILITY: 'true' })).toThrow(/COMPOSE_COMPATIBILITY is not supported/);
    expect(() => refuseCompatibility({}, { COMPOSE_COMPATIBILITY: 'false' })).not.toThrow();
  });

  it('COMPOSE_REMOVE_ORPHANS is --remove-orphans\' default; COMPOSE_IGNORE_ORPHANS (from the project) cannot go with it', () => {
    const project = (env: Record<string, string>) => ({ environment: env }) as unknown as Project;
    const saved = process.env.COMPOSE_REMOVE_ORPHANS;
    try {
      delete process.env.COMPOSE_REMOVE_ORPHANS;
      expect(orphanOptions(undefined, project({}), { removeFromEnv: true })).toEqual({ removeOrphans: false, ignoreOrphans: false });
      process.env.COMPOSE_REMOVE_ORPHANS = 'true';
      expect(orphanOptions(undefined, project({}), { removeFromEnv: true })).toEqual({ removeOrphans: true, ignoreOrphans: false });
      expect(orphanOptions(undefined, project({}), { removeFromEnv: false })).toEqual({ removeOrphans: false, ignoreOrphans: false });
      expect(orphanOptions(false, project({}), { removeFromEnv: true }).removeOrphans).toBe(false);
      delete process.env.COMPOSE_REMOVE_ORPHANS;
      expect(orphanOptions(undefined, project({ COMPOSE_IGNORE_ORPHANS: '1' }), { removeFromEnv: true })).toEqual({ removeOrphans: false, ignoreOrphans: true });
      expect(() => orphanOptions(true, project({ COMPOSE_IGNORE_ORPHANS: 'true' }), { removeFromEnv: true })).toThrow(/cannot combine COMPOSE_IGNORE_ORPHANS and --remove-orphans/);
    } finally {
      if (saved === undefined) delete process.env.COMPOSE_REMOVE_ORPHANS;
      else process.env.COMPOSE_REMOVE_ORPHANS = saved;
    }
  });

  it('COMPOSE_STATUS_STDOUT sends the status to stdout instead of stderr', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const draw = (env?: string) => {
      if (env === undefined) delete process.env.COMPOSE_STATUS_STDOUT;
      else process.env.COMPOSE_STATUS_STDOUT = env;
      const listen = new CliContext({ progress: 'plain', ansi: 'never' }).listener();
      listen({ type: 'info', message: 'status line' });
      delete process.env.COMPOSE_STATUS_STDOUT;
    };
    draw();
    expect(err.mock.calls.flat().join('')).toContain('status line');
    expect(out.mock.calls.flat().join('')).not.toContain('status line');
    err.mockClear();
    draw('1');
    expect(out.mock.calls.flat().join('')).toContain('status line');
    expect(err.mock.calls.flat().join('')).not.toContain('status line');
  });
});

describe('up --menu', () => {
  it('is refused in one sentence before anything is loaded', async () => {
    const program = await buildProgram(['up']);
    program.exitOverride();
    const err = await rejection(program.parseAsync(['node', 'tscompose', '-f', '/nonexistent/compose.yaml', 'up', '--menu']));
    expect(err.message).toBe('--menu is not supported: tscompose has no interactive shortcuts while attached');
  });
});

describe('config --all-resources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-globals-'));
  it('keeps the networks and volumes no service uses', async () => {
    writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: x\nnetworks:\n  spare: {}\nvolumes:\n  unused: {}\n');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const run = async (extra: string[]) => {
        write.mockClear();
        const program = await buildProgram(['config']);
        program.exitOverride();
        await program.parseAsync(['node', 'tscompose', '-f', join(dir, 'compose.yaml'), ...extra, 'config', '--networks']);
        return write.mock.calls.flat().join('');
      };
      expect(await run([])).toBe('default\n');
      expect((await run(['--all-resources'])).split('\n').filter(Boolean).sort()).toEqual(['default', 'spare']);
    } finally {
      write.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
