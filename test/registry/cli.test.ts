import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeRuntimeRoot } from '../runtime/helpers.js';
import { registryFixture } from './fixture.js';

/**
 * The registry through the CLI: login (stdin password) and logout, image
 * push and pull, and the project verbs build, push and pull on a compose
 * file whose images live in a local registry.
 */

const fx = registryFixture();

describe('registry CLI', () => {
  it('login, image push, image pull into another store, logout', async () => {
    const registry = await fx.start('htpasswd');
    const root = await makeRuntimeRoot();
    const ref = `${registry.host}/cli/busybox:1`;
    expect(root.cli(['image', 'tag', 'busybox', ref]).code).toBe(0);

    const denied = root.cli(['image', 'push', ref]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/unauthorized/);
    const bad = root.cli(['login', registry.host, '-u', 'alice', '--password-stdin'], { input: 'wrong\n' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/incorrect username or password/);
    const login = root.cli(['login', registry.host, '-u', 'alice', '--password-stdin'], { input: `${registry.user!.password}\n` });
    expect(login.stdout).toBe('Login Succeeded\n');
    const auths = JSON.parse(readFileSync(join(fx.dockerConfigDir, 'config.json'), 'utf8')).auths as Record<string, { auth: string }>;
    expect(Buffer.from(auths[registry.host]!.auth, 'base64').toString()).toBe(`alice:${registry.user!.password}`);

    const push = root.cli(['image', 'push', ref]);
    expect(push.code).toBe(0);
    expect(push.stdout).toContain(`The push refers to repository [${registry.host}/cli/busybox]`);
    expect(push.stdout).toMatch(/: Pushed$/m);
    expect(push.stdout).toMatch(/^1: digest: sha256:[0-9a-f]{64} size: \d+$/m);

    const other = fx.tempDir('tsc-cli2-');
    const env2 = { ...root.env, TSCOMPOSE_ROOT: join(other, 'state'), TSCOMPOSE_RUN: join(other, 'run') };
    const pull = spawnCli(['image', 'pull', ref], env2);
    expect(pull.code).toBe(0);
    expect(pull.stdout).toMatch(/^[0-9a-f]{12}: Pull complete$/m);
    expect(pull.stdout).toContain(`Status: Downloaded newer image for ${ref}`);
    expect(pull.stdout.trim().split('\n').at(-1)).toBe(ref);
    expect(spawnCli(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], env2).stdout).toBe(`${registry.host}/cli/busybox:1\n`);
    expect(spawnCli(['image', 'pull', ref], env2).stdout).toContain(`Status: Image is up to date for ${ref}`);

    expect(root.cli(['logout', registry.host]).stdout).toBe(`Removing login credentials for ${registry.host}\n`);
    expect(root.cli(['logout', registry.host]).stdout).toBe(`Not logged in to ${registry.host}\n`);
  });

  it('tscompose build, push and pull for a project, pull_policy honoured', async () => {
    const registry = await fx.start('none');
    const root = await makeRuntimeRoot();
    const project = fx.tempDir('tsc-proj-');
    mkdirSync(join(project, 'app'));
    writeFileSync(join(project, 'app', 'Dockerfile'), 'FROM busybox\nARG GREETING=hi\nRUN echo "$GREETING" > /greeting\nCMD ["cat", "/greeting"]\n');
    writeFileSync(join(project, 'compose.yaml'), [
      'services:',
      '  app:',
      `    image: ${registry.host}/proj/app:1`,
      '    build:',
      '      context: ./app',
      '      args:',
      '        GREETING: hello-from-compose',
      '  never:',
      `    image: ${registry.host}/proj/absent:1`,
      '    pull_policy: never',
      '  tool:',
      `    image: ${registry.host}/proj/app:1`,
      '    pull_policy: missing',
      '',
    ].join('\n'));
    const built = root.cli(['-f', join(project, 'compose.yaml'), 'build']);
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toContain('Building app');
    expect(built.stdout).toMatch(/Successfully tagged/);
    const pushed = root.cli(['-f', join(project, 'compose.yaml'), '--progress', 'plain', 'push']);
    expect(pushed.code, pushed.stderr).toBe(0);

    const other = fx.tempDir('tsc-cli3-');
    const env2 = { ...root.env, TSCOMPOSE_ROOT: join(other, 'state'), TSCOMPOSE_RUN: join(other, 'run') };
    const pulled = spawnCli(['-f', join(project, 'compose.yaml'), '--progress', 'plain', 'pull'], env2);
    expect(pulled.code, pulled.stderr).toBe(0);
    const ls = spawnCli(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], env2).stdout;
    // app is pulled (never is skipped; tool shares app's image and is missing-only).
    expect(ls).toBe(`${registry.host}/proj/app:1\n`);
    const run = spawnCli(['container', 'run', '--rm', `${registry.host}/proj/app:1`], env2);
    expect(run.stdout).toBe('hello-from-compose\n');
  });
});

import { spawnSync } from 'node:child_process';
import { repoRoot } from '../support/cache.js';

function spawnCli(args: string[], env: NodeJS.ProcessEnv): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(join(repoRoot, 'bin', 'tscompose'), args, { env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
