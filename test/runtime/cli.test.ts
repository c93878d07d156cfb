import { describe, it, expect, afterEach, beforeAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../support/cache.js';
import { checkNoLeaks, ensureBuilt, makeRuntimeRoot } from './helpers.js';
import { Tmux } from '../support/tmux.js';

beforeAll(ensureBuilt);
afterEach(checkNoLeaks);

const BIN = join(repoRoot, 'bin', 'tscompose');

describe('tscompose container: one CLI process starts, others list, log, exec, stop (acceptance 3)', () => {
  it('runs detached; ls, logs, exec, top, inspect, stop and rm work from other processes', async () => {
    const root = await makeRuntimeRoot();
    const run = root.cli(['container', 'run', '-d', '--network', 'none', '--name', 'web', '-e', 'GREETING=hi there', 'busybox', 'sh', '-c', 'echo "started $GREETING"; echo warn >&2; exec sleep 1000']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const id = run.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);

    const ls = root.cli(['container', 'ls']);
    const lines = ls.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    expect(lines[1]).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'echo \\\\"starte…"\\s+.* ago\\s+Up .*\\s+web$`));
    expect(root.cli(['container', 'ps', '-q']).stdout).toBe(`${id.slice(0, 12)}\n`);

    for (let i = 0; i < 100 && !root.cli(['container', 'logs', 'web']).stdout.includes('started'); i++) await sleep(20);
    const logs = root.cli(['container', 'logs', '-t', 'web']);
    expect(logs.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z started hi there\n$/);
    expect(logs.stderr).toMatch(/Z warn\n$/);

    const exec = root.cli(['container', 'exec', '-e', 'X=1', '-w', '/tmp', 'web', 'sh', '-c', 'echo "$X $(pwd) $GREETING"; exit 5']);
    expect(exec).toMatchObject({ code: 5, stdout: '1 /tmp hi there\n' });
    expect(root.cli(['container', 'exec', '-u', 'nobody', 'web', 'id']).stdout).toBe('uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n');
    expect(root.cli(['container', 'exec', 'web', 'nope']).code).toBe(127);

    const top = root.cli(['container', 'top', 'web']).stdout.split('\n');
    expect(top[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    expect(top[1]).toMatch(/sleep 1000$/);

    const inspect = JSON.parse(root.cli(['container', 'inspect', 'web']).stdout);
    expect(inspect[0]).toMatchObject({ Id: id, Name: '/web', State: { Status: 'running', Running: true } });
    expect(inspect[0].State.Pid).toBeGreaterThan(1);

    const stop = root.cli(['container', 'stop', 'web']);
    expect(stop).toMatchObject({ code: 0, stdout: 'web\n' });
    expect(root.cli(['container', 'inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'web']).stdout).toBe('exited 137\n');
    expect(root.cli(['container', 'ls']).stdout.trim().split('\n')).toHaveLength(1);
    expect(root.cli(['container', 'ls', '-a']).stdout).toMatch(/Exited \(137\) .* ago/);
    expect(root.cli(['container', 'rm', 'web'])).toMatchObject({ code: 0, stdout: 'web\n' });
    expect(root.cli(['container', 'inspect', 'web'])).toMatchObject({ code: 1, stderr: 'Error: No such container: web\n' });
  });

  it('run exits with the container\'s code, --rm removes it; bad input is a clear error with docker\'s exit codes', async () => {
    const root = await makeRuntimeRoot();
    expect(root.cli(['container', 'run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 7'])).toEqual({ code: 7, stdout: 'out\n', stderr: 'err\n' });
    expect(root.cli(['container', 'ls', '-a', '-q']).stdout).toBe('');
    const notFound = root.cli(['container', 'run', '--rm', '--network', 'none', 'busybox', 'nosuchcommand']);
    expect(notFound.code).toBe(127);
    expect(notFound.stderr).toContain('exec: "nosuchcommand": executable file not found in $PATH');
    expect(root.cli(['container', 'run', '--rm', '--network', 'none', 'busybox', '/etc/passwd']).code).toBe(126);
    const noImage = root.cli(['container', 'run', '--network', 'none', 'nosuchimage']);
    expect(noImage).toMatchObject({ code: 125, stderr: 'No such image: nosuchimage\n' });
    const badMem = root.cli(['container', 'run', '--network', 'none', '-m', 'lots', 'busybox', 'true']);
    expect(badMem.code).toBe(125);
    expect(badMem.stderr).toContain('invalid value "lots" for --memory');
    const badCap = root.cli(['container', 'run', '--network', 'none', '--cap-add', 'FLY', 'busybox', 'true']);
    expect(badCap.stderr).toContain('unknown capability "FLY" in cap_add');
    expect(root.cli(['container', 'run', '--network', 'none', '--name', 'a b', 'busybox', 'true']).stderr).toContain('Invalid container name (a b)');
    // Nothing half-created by the failures above.
    expect(root.cli(['container', 'ls', '-a', '-q']).stdout).toBe('');
    root.cli(['container', 'create', '--network', 'none', '--name', 'dup', 'busybox', 'true']);
    const dup = root.cli(['container', 'create', '--network', 'none', '--name', 'dup', 'busybox', 'true']);
    expect(dup.code).toBe(125);
    expect(dup.stderr).toContain('The container name "/dup" is already in use');
    expect(root.cli(['container', 'rm', 'dup']).code).toBe(0);
  });

  it('logs -f follows until the container exits', async () => {
    const root = await makeRuntimeRoot();
    const id = root.cli(['container', 'run', '-d', '--network', 'none', 'busybox', 'sh', '-c', 'echo one; while [ ! -e /go ]; do sleep 0.02; done; echo two']).stdout.trim();
    const follower = spawn(BIN, ['container', 'logs', '-f', id], { env: root.env });
    let out = '';
    let err = '';
    follower.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    follower.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const exited = new Promise<string>((r) => follower.on('close', (c, sig) => r(`${c ?? sig}${err ? `: ${err}` : ''}`)));
    for (let i = 0; i < 250 && !out.includes('one'); i++) await sleep(20);
    expect(out).toBe('one\n');
    expect(root.cli(['container', 'exec', id, 'touch', '/go']).code).toBe(0);
    expect(await exited).toBe('0');
    expect(out).toBe('one\ntwo\n');
    root.cli(['container', 'rm', id]);
  });

  it('exec -it and run -it work under a real terminal (tmux): raw mode, the container\'s pty, window size changes', async () => {
    const root = await makeRuntimeRoot();
    const t = new Tmux(root);
    try {
      root.cli(['container', 'run', '-d', '--network', 'none', '--name', 'box', 'busybox', 'sleep', '1000']);
      t.start('ex', `${BIN} container exec -it box sh`);
      await t.waitFor('ex', /^\/ #$/m);
      t.tmux('send-keys', '-t', 'ex', 'echo $((6*7)); tty; stty size', 'Enter');
      await t.waitFor('ex', /^42\n\/dev\/pts\/0\n30 100$/m);
      t.tmux('resize-window', '-t', 'ex', '-x', '120', '-y', '40');
      await sleep(100);
      t.tmux('send-keys', '-t', 'ex', 'stty size', 'Enter');
      await t.waitFor('ex', /^40 120$/m);
      // Raw mode: ^C reaches the container's shell, which stays; `exit 3` ends the session with 3.
      t.tmux('send-keys', '-t', 'ex', 'sleep 100', 'Enter');
      const sleeping = () => root.cli(['container', 'top', 'box']).stdout.includes('sleep 100\n');
      for (let i = 0; i < 250 && !sleeping(); i++) await sleep(20);
      t.tmux('send-keys', '-t', 'ex', 'C-c');
      await t.waitFor('ex', /\^C/);
      for (let i = 0; i < 250 && sleeping(); i++) await sleep(20);
      expect(sleeping()).toBe(false);
      t.tmux('send-keys', '-t', 'ex', 'exit 3', 'Enter');
      expect(await t.exitCode('ex')).toBe(3);

      t.start('run', `${BIN} container run -it --rm --network none --name tty1 busybox sh`);
      await t.waitFor('run', /^\/ #$/m);
      t.tmux('send-keys', '-t', 'run', 'tty; echo $TERM; exit 4', 'Enter');
      expect(await t.exitCode('run')).toBe(4);
    } finally {
      t.kill();
      root.cli(['container', 'rm', '-f', 'box']);
    }
    expect(root.cli(['container', 'ls', '-a', '-q']).stdout).toBe('');
  });

  it('-i passes stdin through to the container and closes it at the end', async () => {
    const root = await makeRuntimeRoot();
    const r = root.cli(['container', 'run', '-i', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'tr a-z A-Z; echo done'], { input: 'hello\nworld\n' });
    expect(r).toEqual({ code: 0, stdout: 'HELLO\nWORLD\ndone\n', stderr: '' });
    const id = root.cli(['container', 'run', '-d', '--network', 'none', 'busybox', 'sleep', '100']).stdout.trim();
    expect(root.cli(['container', 'exec', '-i', id, 'wc', '-l'], { input: 'a\nb\nc\n' }).stdout.trim()).toBe('3');
    root.cli(['container', 'rm', '-f', id]);
  });

  it('writes env files and labels, and filters ls by label', async () => {
    const root = await makeRuntimeRoot();
    const envFile = join(root.dir, 'app.env');
    writeFileSync(envFile, '# comment\nA=1\nB=two words\n');
    const id = root.cli(['container', 'create', '--network', 'none', '--env-file', envFile, '-l', 'com.docker.compose.project=p1', '-l', 'tier=web', 'busybox', 'env']).stdout.trim();
    const other = root.cli(['container', 'create', '--network', 'none', '-l', 'com.docker.compose.project=p2', 'busybox', 'true']).stdout.trim();
    expect(root.cli(['container', 'ls', '-a', '-q', '--no-trunc', '--filter', 'label=com.docker.compose.project=p1']).stdout).toBe(`${id}\n`);
    expect(root.cli(['container', 'ls', '-a', '-q', '--no-trunc', '--filter', 'label=tier']).stdout).toBe(`${id}\n`);
    expect(root.cli(['container', 'ls', '-a', '-q', '--filter', 'label=com.docker.compose.project']).stdout.trim().split('\n')).toHaveLength(2);
    expect(root.cli(['container', 'start', '-a', id]).stdout).toMatch(/^A=1$[\s\S]*^B=two words$/m);
    root.cli(['container', 'rm', id, other]);
  });
});
