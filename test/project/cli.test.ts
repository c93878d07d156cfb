import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../support/cache.js';
import { projectDir } from './helpers.js';

/** `tscompose config` and the global options, as a user runs them. */
function tscompose(cwd: string, args: string[], input = '', env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(repoRoot, 'bin', 'tscompose'), ...args], {
    cwd,
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

const FILE = [
  'services:',
  '  web: {image: "web:${TAG:-latest}", depends_on: [db]}',
  '  db: {image: postgres}',
  '  debug: {image: busybox, profiles: [debug]}',
].join('\n');

describe('tscompose config (CLI)', () => {
  it('reads -f - from standard input, with the current directory as project directory', () => {
    const dir = projectDir({}, 'from-stdin');
    const r = tscompose(dir, ['-f', '-', 'config', '--services'], FILE);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, 'db\nweb\n', '']);
    const bad = tscompose(dir, ['-f', '-', 'config'], 'services:\n  web:\n    image: [x]\n');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('(stdin):3:12: services.web.image must be a string, not a list\n');
  });

  it('honours -p, --profile, --env-file and --project-directory', () => {
    const dir = projectDir({ 'compose.yaml': FILE, 'prod.env': 'TAG=2.0\n' });
    const r = tscompose(dir, ['-p', 'named', '--profile', 'debug', '--env-file', 'prod.env', 'config']);
    expect(r.status, r.stderr).toBe(0);
    const out = parse(r.stdout) as { name: string; services: Record<string, { image: string }> };
    expect(out.name).toBe('named');
    expect(Object.keys(out.services)).toEqual(['db', 'debug', 'web']);
    expect(out.services.web!.image).toBe('web:2.0');
  });

  it('selects services with what they depend on, and writes to a file with -o', () => {
    const dir = projectDir({ 'compose.yaml': FILE });
    const r = tscompose(dir, ['config', 'web', '-o', 'out.yaml']);
    expect([r.status, r.stdout]).toEqual([0, '']);
    const out = parse(readFileSync(join(dir, 'out.yaml'), 'utf8')) as { services: Record<string, unknown> };
    expect(Object.keys(out.services)).toEqual(['db', 'web']);
    expect(tscompose(dir, ['config', 'nope']).stderr).toMatch(/no such service: nope/);
  });

  it('prints warnings on stderr and keeps stdout a clean document', () => {
    const dir = projectDir({ 'compose.yaml': `version: "3.8"\n${FILE.replace('${TAG:-latest}', '${TAG}')}` });
    const r = tscompose(dir, ['config']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(
      'WARN compose.yaml:1:1: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion\n' +
        'WARN compose.yaml:3:21: The "TAG" variable is not set. Defaulting to a blank string.\n',
    );
    expect((parse(r.stdout) as { services: Record<string, { image: string }> }).services.web!.image).toBe('web:');
  });

  it('quotes strings a YAML 1.1 reader would take for booleans or numbers', () => {
    const dir = projectDir({ 'compose.yaml': 'services:\n  web:\n    image: x\n    environment: {A: "yes", B: "12:30", C: "no way", D: "off"}\n' });
    const r = tscompose(dir, ['config']);
    expect(r.stdout).toContain('      A: "yes"\n      B: "12:30"\n      C: no way\n      D: "off"\n');
  });

  it('says what is wrong with the options', () => {
    const dir = projectDir({ 'compose.yaml': FILE });
    const r = tscompose(dir, ['config', '--format', 'toml']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/argument 'toml' is invalid\. use yaml or json/);
    const noFile = tscompose(projectDir({}), ['config']);
    expect(noFile.status).toBe(1);
    expect(noFile.stderr).toMatch(/^no configuration file provided/);
  });
});
