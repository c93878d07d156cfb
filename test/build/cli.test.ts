import { describe, it, expect, afterEach } from 'vitest';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { repoRoot } from '../support/cache.js';
import { checkNoLeaks, makeRuntimeRoot } from '../runtime/helpers.js';
import { removeContexts, writeContext } from './helpers.js';

/** `image build` and `commit` / `container commit` through the CLI, with the docker CLI's output. */

afterEach(async () => {
  removeContexts();
  await checkNoLeaks();
});

describe('build and commit CLI', () => {
  it('image build prints the classic steps, -q only the id; errors name the Dockerfile line and exit 1', async () => {
    const root = await makeRuntimeRoot();
    const ctx = writeContext({
      'docker/app.Dockerfile': 'FROM busybox\nARG WHO\nRUN echo "built by $WHO" > /who\nLABEL from=cli\n',
    });
    const r = root.cli(['image', 'build', '-t', 'cli:1', '-t', 'cli:latest', '-f', join(ctx, 'docker/app.Dockerfile'), '--build-arg', 'WHO=cli', '--label', 'extra=1', ctx]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Step 1\/5 : FROM busybox\n ---> [0-9a-f]{12}\nStep 2\/5 : ARG WHO\n/);
    expect(r.stdout).toMatch(/Step 3\/5 : RUN echo "built by \$WHO" > \/who\n ---> Running in [0-9a-f]{12}\nRemoving intermediate container [0-9a-f]{12}\n ---> [0-9a-f]{12}\n/);
    expect(r.stdout).toMatch(/Step 5\/5 : LABEL "extra"="1"\n/);
    expect(r.stdout).toMatch(/Successfully built ([0-9a-f]{12})\nSuccessfully tagged cli:1\nSuccessfully tagged cli:latest\n$/);
    const q = root.cli(['image', 'build', '-q', '-t', 'cli:1', '-f', join(ctx, 'docker/app.Dockerfile'), '--build-arg', 'WHO=cli', '--label', 'extra=1', ctx]);
    expect(q.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(q.stdout.slice(7, 19)).toBe(/Successfully built ([0-9a-f]{12})/.exec(r.stdout)![1]);
    const inspect = JSON.parse(root.cli(['image', 'inspect', 'cli:1']).stdout) as [{ Config: { Labels: Record<string, string> } }];
    expect(inspect[0].Config.Labels).toEqual({ from: 'cli', extra: '1' });
    // What a rebuild must not take from the cache: a build arg's new value (from the RUN that uses it
    // on), a changed Dockerfile line (from that line on); an unchanged rebuild takes every step from it.
    const file = join(ctx, 'docker/app.Dockerfile');
    const rebuild = (who: string) => root.cli(['image', 'build', '-t', 'cli:1', '-f', file, '--build-arg', `WHO=${who}`, '--label', 'extra=1', ctx]);
    const cachedSteps = (out: string) => out.split(/^Step /m).slice(1).map((s) => / ---> Using cache\n/.test(s));
    expect(cachedSteps(rebuild('cli').stdout)).toEqual([false, true, true, true, true]);
    const otherArg = rebuild('someone else');
    expect(cachedSteps(otherArg.stdout).slice(2)).toEqual([false, false, false]);
    expect(otherArg.stdout).toContain('Running in');
    writeFileSync(file, 'FROM busybox\nARG WHO\nRUN echo "built by $WHO" > /who\nLABEL from=cli-edited\n');
    const edited = rebuild('cli');
    expect(cachedSteps(edited.stdout)).toEqual([false, true, true, false, false]);
    expect(/Successfully built ([0-9a-f]{12})/.exec(edited.stdout)![1]).not.toBe(q.stdout.slice(7, 19));

    const broken = writeContext({ Dockerfile: 'FROM busybox\n\nCOPY missing.txt /\n' });
    const b = root.cli(['image', 'build', broken]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/^Dockerfile:3: "missing.txt" not found in the build context/);
    const noFile = root.cli(['image', 'build', join(broken, 'nowhere')]);
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toMatch(/path ".*nowhere" not found/);
  });

  it('container commit makes an image of a container\'s changes', async () => {
    const root = await makeRuntimeRoot();
    const run = root.cli(['container', 'run', '--name', 'to-commit', 'busybox', 'sh', '-c', 'echo kept > /kept']);
    expect(run.code, run.stderr).toBe(0);
    const c = root.cli(['container', 'commit', '-a', 'Tester', '-m', 'via cli', '-c', 'CMD ["cat", "/kept"]', 'to-commit', 'committed:cli']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const out = root.cli(['container', 'run', '--rm', 'committed:cli']);
    expect(out.stdout).toBe('kept\n');
    const c2 = root.cli(['container', 'commit', 'to-commit']);
    expect(c2.code, c2.stderr).toBe(0);
    const hist = root.cli(['image', 'history', '--no-trunc', '--format', '{{.Comment}}', 'committed:cli']);
    expect(hist.stdout.split('\n')[0]).toBe('via cli');
    const bad = root.cli(['container', 'commit', 'no-such-container']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/No such container: no-such-container/);
    expect(root.cli(['container', 'rm', 'to-commit']).code).toBe(0);
  });
});

describe('build after a killed build', () => {
  it('removes what a build killed during a RUN left: its container, its images', async () => {
    const root = await makeRuntimeRoot();
    const ctx = writeContext({ 'a.txt': 'a', Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN echo MARK-$((1+1)) && sleep 60\n' });
    const before = (await root.store.list()).map((i) => i.id);
    const child = spawn(join(repoRoot, 'bin', 'tscompose'), ['image', 'build', ctx], { env: root.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('MARK-2')) resolve();
      });
      child.on('exit', () => reject(new Error(`the build ended early: ${out}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    const left = await root.runtime.list({ all: true });
    expect(left.length).toBe(1);
    expect((await root.store.list()).length).toBe(before.length + 1);

    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY a.txt /a.txt\nRUN echo second\n');
    const r = root.cli(['image', 'build', '-t', 'after-kill:1', ctx]);
    expect(r.code, r.stderr).toBe(0);
    expect(await root.runtime.list({ all: true })).toEqual([]);
    const ids = (await root.store.list()).map((i) => i.id);
    expect(ids.filter((id) => !before.includes(id))).toEqual([(await root.store.get('after-kill:1')).id]);
  });
});
