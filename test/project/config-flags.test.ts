import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../support/cache.js';
import { projectDir } from './helpers.js';

/**
 * Compose's `config` flags that turn loader phases off or print what the
 * loader saw: --variables, --models, --no-interpolate, --no-normalize,
 * --no-path-resolution, --no-env-resolution, --no-consistency.
 */
function tscompose(cwd: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(repoRoot, 'bin', 'tscompose'), ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
}

const FILE = `services:
  web:
    image: \${IMAGE:-busybox}:\${TAG:?set a tag}
    env_file: ./web.env
    environment:
      H: \${HOST}
      ALT: \${ALT:+yes}
      NESTED: \${OUTER:-\${INNER-deep}}
    volumes: ["./data:/data"]
    ports: ["\${PORT}:80"]
models:
  llm:
    model: ai/smollm2
`;

type Doc = { name: string; services: Record<string, Record<string, unknown>>; models?: Record<string, unknown> };

describe('config flags that show or skip loader phases', () => {
  const project = () => projectDir({ 'compose.yaml': FILE, '.env': 'HOST=from-dotenv\n', 'web.env': 'FROM_FILE=1\n' }, 'cfgflags');
  const env = { TAG: '1', PORT: '8080' };

  it('--variables lists every variable with what the files say of it, before interpolation', () => {
    const dir = project();
    const table = tscompose(dir, ['config', '--variables']);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toBe(
      [
        'NAME    REQUIRED   DEFAULT VALUE   ALTERNATE VALUE',
        'ALT     false                      yes',
        'HOST    false',
        'IMAGE   false      busybox',
        'INNER   false      deep',
        'OUTER   false      ${INNER-deep}',
        'PORT    false',
        'TAG     true',
        '',
      ].join('\n'),
    );
    const json = JSON.parse(tscompose(dir, ['config', '--variables', '--format', 'json']).stdout) as Record<string, { Required: boolean; DefaultValue: string }>;
    expect(json.TAG).toEqual({ Name: 'TAG', DefaultValue: '', PresenceValue: '', Required: true });
    expect(Object.keys(json)).toHaveLength(7);
  });

  it('--no-interpolate prints the merged model as written; --no-normalize interpolated but in the short syntax', () => {
    const dir = project();
    const raw = tscompose(dir, ['config', '--no-interpolate']);
    expect(raw.status, raw.stderr).toBe(0);
    const doc = parse(raw.stdout) as Doc;
    expect(doc.services.web!.image).toBe('${IMAGE:-busybox}:${TAG:?set a tag}');
    expect(doc.services.web!.ports).toEqual(['${PORT}:80']);
    const short = parse(tscompose(dir, ['config', '--no-normalize'], env).stdout) as Doc;
    expect(short.services.web!.image).toBe('busybox:1');
    expect(short.services.web!.ports).toEqual(['8080:80']);
    expect(short.services.web!.volumes).toEqual(['./data:/data']);
    // Normalized, the same port is in the long syntax.
    const full = parse(tscompose(dir, ['config'], env).stdout) as Doc;
    expect(full.services.web!.ports).toEqual([expect.objectContaining({ target: 80, published: '8080' })]);
  });

  it('--no-path-resolution keeps relative paths; --no-env-resolution leaves env_file unread', () => {
    const dir = project();
    const full = parse(tscompose(dir, ['config'], env).stdout) as Doc;
    expect((full.services.web!.volumes as Array<{ source: string }>)[0]!.source).toBe(join(dir, 'data'));
    expect(full.services.web!.environment).toMatchObject({ FROM_FILE: '1', H: 'from-dotenv' });
    const kept = parse(tscompose(dir, ['config', '--no-path-resolution'], env).stdout) as Doc;
    expect((kept.services.web!.volumes as Array<{ source: string }>)[0]!.source).toBe('./data');
    expect(kept.services.web!.environment).toMatchObject({ FROM_FILE: '1' });
    const unread = parse(tscompose(dir, ['config', '--no-env-resolution'], env).stdout) as Doc;
    expect(unread.services.web!.environment).not.toHaveProperty('FROM_FILE');
    expect(unread.services.web!.environment).toMatchObject({ H: 'from-dotenv' });
    expect(unread.services.web!.env_file).toEqual([{ path: join(dir, 'web.env'), required: true }]);
    expect(full.services.web).not.toHaveProperty('env_file');
  });

  it('--no-consistency prints a model that refers to what is not declared; --models lists the models', () => {
    const dir = project();
    const broken = projectDir({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n    networks: [missing]\n' }, 'cfgconsistency');
    const checked = tscompose(broken, ['config']);
    expect(checked.status).toBe(1);
    expect(checked.stderr).toContain('refers to undefined network "missing"');
    const unchecked = tscompose(broken, ['config', '--no-consistency']);
    expect(unchecked.status, unchecked.stderr).toBe(0);
    expect((parse(unchecked.stdout) as Doc).services.web!.networks).toEqual({ missing: null });
    expect(tscompose(dir, ['config', '--models'], env).stdout).toBe('llm\n');
    expect(tscompose(broken, ['config', '--models', '--no-consistency']).stdout).toBe('');
  });
});
