import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { complete, type GlobalWords, type ValueKind } from '../../src/cli/completion/complete.js';
import { completionScript } from '../../src/cli/completion/scripts.js';
import { repoRoot } from '../support/cache.js';
import { BUSYBOX, forceRemoveRoot, importBusybox, nativeRoot, settledLeftovers, type NativeRoot } from '../native-engine/support.js';

/**
 * Shell completion: the candidates (complete.ts, over the real command
 * tree), and the three shells' scripts driving the real CLI, with service
 * names from a compose file and container names from the native engine.
 */

describe('the candidates for the last word', () => {
  const asked: Array<{ kind: ValueKind; globals: GlobalWords }> = [];
  const lookup = async (kind: Exclude<ValueKind, 'file' | 'none'>, globals: GlobalWords) => {
    asked.push({ kind, globals });
    return { service: ['web', 'db', 'worker'], container: ['proj-web-1', 'other'], image: ['busybox:latest'], network: ['net'], volume: ['vol'] }[kind];
  };
  const words = async (...line: string[]) => {
    const r = await complete(await buildProgram(), line, lookup);
    return 'files' in r ? 'FILES' : r.words;
  };

  it('are verbs, subcommands, flags and their choices, from the command tree', async () => {
    expect(await words('u')).toEqual(['unpause', 'up']);
    expect(await words('container', 'st')).toEqual(['start', 'stats', 'stop']);
    expect(await words('up', '--w')).toEqual(['--wait', '--wait-timeout', '--watch']);
    expect(await words('--progress', '')).toEqual(['auto', 'json', 'plain', 'quiet', 'tty']);
    expect(await words('--pro')).toEqual(['--profile', '--progress', '--project-directory', '--project-name']);
    expect(await words('completion', '')).toEqual([]);
    expect(await words('__')).toEqual([]); // the hidden command stays hidden
  });

  it('are service names where a command takes services, from the files the line names', async () => {
    asked.length = 0;
    expect(await words('-f', 'a.yaml', '--file=b.yaml', '-p', 'proj', '--profile', 'dev', 'logs', '-f', 'w')).toEqual(['web', 'worker']);
    expect(asked).toEqual([{ kind: 'service', globals: { files: ['a.yaml', 'b.yaml'], envFiles: [], profiles: ['dev'], projectName: 'proj' } }]);
    expect(await words('exec', '-T', '')).toEqual(['db', 'web', 'worker']);
    expect(await words('exec', 'web', '')).toEqual([]); // then the command: nothing to offer
    expect(await words('up', '-d', 'web', '')).toEqual(['db', 'web', 'worker']);
  });

  it('are container, image, network and volume names where those are taken, and file names for files', async () => {
    expect(await words('container', 'stop', '-t', '1', 'p')).toEqual(['proj-web-1']);
    expect(await words('container', 'run', '--rm', '')).toEqual(['busybox:latest']);
    expect(await words('network', 'rm', '')).toEqual(['net']);
    expect(await words('volume', 'inspect', '')).toEqual(['vol']);
    expect(await words('-f', '')).toBe('FILES');
    expect(await words('--env-file', '')).toBe('FILES');
    expect(await words('cp', '')).toBe('FILES');
  });

  it('are nothing, quietly, where the file or the engine cannot answer', async () => {
    const r = await complete(await buildProgram(), ['up', ''], async () => {
      throw new Error('compose.yaml:3:1: bad');
    });
    expect(r).toEqual({ words: [] });
  });
});

describe('the shells\' scripts', () => {
  let root: NativeRoot;
  let work: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    root = nativeRoot('tsc-completion-');
    await importBusybox();
    work = mkdtempSync(join(tmpdir(), 'tsc-completion-work-'));
    // The scripts call `tscompose` as the user typed it: the checkout's, first on PATH.
    mkdirSync(join(work, 'bin'));
    symlinkSync(join(repoRoot, 'bin', 'tscompose'), join(work, 'bin', 'tscompose'));
    for (const shell of ['bash', 'zsh', 'fish'] as const) writeFileSync(join(work, `completion.${shell}`), completionScript(shell));
    writeFileSync(join(work, 'compose.yaml'), `services:\n  web: { image: ${BUSYBOX} }\n  worker: { image: ${BUSYBOX} }\n`);
    writeFileSync(join(work, 'compose.override.txt'), '');
    env = { ...process.env, ...root.env, PATH: `${join(work, 'bin')}:${process.env.PATH}` } as Record<string, string>;
    execFileSync(join(work, 'bin', 'tscompose'), ['container', 'create', '--name', 'completion-box', BUSYBOX, 'true'], { env, stdio: 'ignore' });
  }, 120_000);

  afterAll(async () => {
    try {
      execFileSync(join(work, 'bin', 'tscompose'), ['container', 'rm', '-f', 'completion-box'], { env, stdio: 'ignore' });
      expect(await settledLeftovers(root)).toEqual([]);
    } finally {
      forceRemoveRoot(root);
      rmSync(work, { recursive: true, force: true });
    }
  });

  const bash = (line: string[]) => {
    const script = `source ${join(work, 'completion.bash')}
COMP_WORDS=(${line.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${line.length - 1}
_tscompose; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync('bash', ['-c', script], { cwd: work, env, encoding: 'utf8' }).split('\n').filter(Boolean);
  };
  // zsh's completion widgets need a terminal; its builtins are stood in for by functions that print what they are given.
  const zsh = (line: string[]) => {
    const script = `compadd() { shift $(( \${@[(i)--]} )); print -l -- "$@"; }
_files() { print -- FILES; }
compdef() { :; }
source ${join(work, 'completion.zsh')}
words=(${line.map((w) => `'${w}'`).join(' ')}); CURRENT=${line.length}
_tscompose`;
    return execFileSync('zsh', ['-f', '-c', script], { cwd: work, env, encoding: 'utf8' }).split('\n').filter(Boolean);
  };
  const fish = (line: string) =>
    execFileSync('fish', ['--no-config', '-c', `source ${join(work, 'completion.fish')}; complete -C '${line}'`], { cwd: work, env, encoding: 'utf8' })
      .split('\n').filter(Boolean).map((l) => l.split('\t')[0]);

  it('bash offers verbs, flags, services and containers', () => {
    expect(bash(['tscompose', 'u'])).toEqual(['unpause', 'up']);
    expect(bash(['tscompose', 'up', '--remove-o'])).toEqual(['--remove-orphans']);
    expect(bash(['tscompose', 'logs', ''])).toEqual(['web', 'worker']);
    expect(bash(['tscompose', 'container', 'rm', 'comp'])).toEqual(['completion-box']);
    expect(bash(['tscompose', '-f', 'compose.'])).toEqual(['compose.override.txt', 'compose.yaml']);
  });

  it('zsh offers the same', () => {
    expect(zsh(['tscompose', 'u'])).toEqual(['unpause', 'up']);
    expect(zsh(['tscompose', 'exec', ''])).toEqual(['web', 'worker']);
    expect(zsh(['tscompose', 'container', 'start', ''])).toEqual(['completion-box']);
    expect(zsh(['tscompose', '-f', ''])).toEqual(['FILES']);
  });

  it('fish offers the same', () => {
    expect(fish('tscompose u')).toEqual(['unpause', 'up']);
    expect(fish('tscompose restart w')).toEqual(['web', 'worker']);
    expect(fish('tscompose container inspect c')).toEqual(['completion-box']);
    expect(fish('tscompose -f compose.y')).toEqual(['compose.yaml']);
  });
});
