import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { statSync, utimesSync, writeFileSync } from 'node:fs';
import { checkNoLeaks, makeRuntimeRoot, runToEnd, type RuntimeRoot } from '../runtime/helpers.js';
import { build, buildFails, removeContexts, writeContext } from './helpers.js';

/** What each instruction does to the image, checked by running the result. */

const servers: Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
  removeContexts();
  await checkNoLeaks();
});

async function sh(root: RuntimeRoot, image: string, script: string): Promise<string> {
  const r = await runToEnd(root, { image, entrypoint: ['sh', '-c'], cmd: [script], user: '0' });
  await root.runtime.remove(r.id);
  return r.stdout + r.stderr;
}

describe('build: instructions', () => {
  it('ADD unpacks local archives, copies other files, downloads URLs; COPY honours .dockerignore and globs', async () => {
    const root = await makeRuntimeRoot();
    const payload = 'downloaded over http\n';
    const server = createServer((req, res) => {
      res.writeHead(200, { 'last-modified': 'Tue, 02 Jan 2024 03:04:05 GMT' });
      res.end(req.url === '/files/tool.txt' ? payload : 'other');
    });
    servers.push(server);
    const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)));
    const sum = `sha256:${createHash('sha256').update(payload).digest('hex')}`;
    const ctx = writeContext({
      'tree/top.txt': 'top\n', 'tree/sub/deep.txt': 'deep\n',
      'src/a.js': 'a', 'src/lib/b.js': 'b', 'src/lib/c.ts': 'c',
      'notes.txt': 'n', 'more.txt': 'm', 'secret.key': 'do not ship', 'logs/x.log': 'x', 'logs/keep.log': 'k',
      '.dockerignore': '*.key\nlogs\n!logs/keep.log\n',
      Dockerfile: [
        'FROM busybox',
        'ADD tree.tar.gz /opt/unpacked/',
        'ADD tree.tar /opt/plain-tar',
        'ADD notes.txt /opt/notes/',
        `ADD --checksum=${sum} http://127.0.0.1:${port}/files/tool.txt /opt/dl/`,
        'COPY . /ctx/',
        'COPY *.txt /txt/',
        'COPY src/**/*.js /js/',
      ].join('\n'),
    });
    execFileSync('tar', ['-czf', join(ctx, 'tree.tar.gz'), '-C', join(ctx, 'tree'), '.']);
    execFileSync('tar', ['-cf', join(ctx, 'tree.tar'), '-C', join(ctx, 'tree'), 'top.txt']);
    const { result } = await build(root, ctx, { tags: ['adds:1'] });
    const out = await sh(root, 'adds:1', [
      'cat /opt/unpacked/top.txt /opt/unpacked/sub/deep.txt',
      'cat /opt/plain-tar/top.txt',
      'cat /opt/notes/notes.txt; echo',
      'stat -c "%a %Y" /opt/dl/tool.txt; cat /opt/dl/tool.txt',
      'ls -A /ctx | sort | tr "\\n" " "; echo; ls /ctx/logs',
      'ls /txt | tr "\\n" " "; echo',
      'find /js -type f | sort | tr "\\n" " "',
    ].join('; '));
    expect(out).toBe([
      'top', 'deep', 'top', 'n', '600 1704164645', payload.trim(),
      '.dockerignore Dockerfile logs more.txt notes.txt src tree tree.tar tree.tar.gz ', 'keep.log',
      'more.txt notes.txt ', '/js/a.js /js/b.js ',
    ].join('\n'));
    expect(result.imageId).toMatch(/^sha256:/);

    const ignored = writeContext({ 'secret.key': 'x', '.dockerignore': 'secret.key\n', Dockerfile: 'FROM busybox\nCOPY secret.key /\n' });
    expect((await buildFails(root, ignored)).error.message).toMatch(/^Dockerfile:2: "secret.key" is excluded by .dockerignore/);
    const badSum = writeContext({ Dockerfile: `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} http://127.0.0.1:${port}/files/tool.txt /x\n` });
    expect((await buildFails(root, badSum)).error.message).toMatch(/^Dockerfile:2: ADD .*checksum mismatch/);
  });

  it('RUN layers keep deletions (whiteouts, opaque dirs), hardlinks, VOLUME contents, and skip runtime mount points', async () => {
    const root = await makeRuntimeRoot();
    const ctx = writeContext({
      Dockerfile: [
        'FROM busybox',
        'RUN mkdir -p /dir/sub && echo a > /dir/a && echo b > /dir/sub/b && echo keep > /keep',
        'RUN rm -rf /dir && mkdir /dir && echo c > /dir/c && rm /keep && rm /etc/group',
        'RUN echo one > /h1 && ln /h1 /h2',
        'VOLUME /data',
        'RUN mkdir /data && echo in-volume > /data/file',
      ].join('\n'),
    });
    const { result } = await build(root, ctx, { tags: ['diffs:1'] });
    const out = await sh(root, 'diffs:1', 'find /dir | sort | tr "\\n" " "; test -e /keep || echo no-keep; test -e /etc/group || echo no-group; stat -c %h /h1; cat /data/file; ls -a / | grep -c "^proc$"');
    expect(out).toBe('/dir /dir/c no-keep\nno-group\n2\nin-volume\n1\n');
    const image = await root.store.get('diffs:1');
    // No layer carries the runtime's placeholders (busybox has no /etc/hosts of its own).
    for (const chainId of image.chainIds.slice(1)) {
      const names = await tarNames(root, chainId);
      expect(names.filter((n) => /^etc\/(hosts|hostname|resolv\.conf)$/.test(n))).toEqual([]);
    }
    const second = await tarNames(root, image.chainIds[2]!);
    expect(second).toEqual(expect.arrayContaining(['dir/', 'dir/.wh..wh..opq', 'dir/c', '.wh.keep', 'etc/.wh.group']));
    expect(result.steps.filter((s) => s.chainId).length).toBe(4);
  });

  it('ONBUILD triggers run in the child build; SHELL, ARG, build args, ENTRYPOINT and labels do what Docker does', async () => {
    const root = await makeRuntimeRoot();
    const base = writeContext({ Dockerfile: 'FROM busybox\nONBUILD RUN echo "triggered in $(pwd)" > /triggered\nONBUILD ENV FROM_TRIGGER=yes\nCMD ["inherited"]\n' });
    await build(root, base, { tags: ['onbuild-base:1'] });
    expect((await root.store.get('onbuild-base:1')).config.config!.OnBuild).toEqual(['RUN echo "triggered in $(pwd)" > /triggered', 'ENV FROM_TRIGGER=yes']);
    const child = writeContext({
      Dockerfile: [
        'ARG FLAVOUR=plain',
        'FROM onbuild-base:1',
        'ARG FLAVOUR',
        'ARG TARGETARCH',
        'ARG UNSET',
        'ARG FROM_ARG=default',
        'SHELL ["/bin/sh", "-e", "-c"]',
        'RUN echo "$FLAVOUR $FROM_ARG $TARGETARCH unset=[$UNSET] $FROM_TRIGGER" > /args',
        'ENTRYPOINT ["/bin/echo"]',
      ].join('\n'),
    });
    const { output, result } = await build(root, child, { tags: ['child:1'], args: { FROM_ARG: 'given', NOT_USED: '1' }, labels: { 'com.example.built-by': 'test' } });
    expect(output).toContain('# Executing 2 build triggers');
    expect(result.warnings).toContain('One or more build-args [NOT_USED] were not consumed');
    const img = await root.store.get('child:1');
    expect(img.config.config!.OnBuild ?? null).toBeNull();
    expect(img.config.config!.Cmd ?? null).toBeNull();
    expect(img.config.config!.Shell).toEqual(['/bin/sh', '-e', '-c']);
    expect(img.config.config!.Labels).toEqual({ 'com.example.built-by': 'test' });
    expect(img.config.config!.Env).toContain('FROM_TRIGGER=yes');
    // ARG values are RUN's environment, not the image's.
    expect(img.config.config!.Env!.some((e) => e.startsWith('FLAVOUR='))).toBe(false);
    expect(await sh(root, 'child:1', 'cat /triggered /args')).toBe(`triggered in /\nplain given amd64 unset=[] yes\n`);
  });

  it('RUN in exec form, COPY --from an image, --chown by names from the image\'s passwd and group', async () => {
    const root = await makeRuntimeRoot();
    await root.store.tag('busybox:latest', 'tools:1');
    const ctx = writeContext({
      'f.txt': 'owned\n',
      Dockerfile: [
        'FROM busybox',
        'RUN ["/bin/sh", "-c", "echo exec-form > /exec"]',
        'COPY --from=tools:1 /etc/passwd /from-image/passwd',
        'COPY --chown=user:staff f.txt /owned/',
        'COPY --chown=nobody f.txt /nobody.txt',
      ].join('\n'),
    });
    await build(root, ctx, { tags: ['forms:1'] });
    expect(await sh(root, 'forms:1', 'cat /exec; head -1 /from-image/passwd; stat -c "%u:%g" /owned/f.txt /nobody.txt')).toBe('exec-form\nroot:x:0:0:root:/root:/bin/sh\n1000:50\n65534:65534\n');
  });

  it('resolves COPY destinations inside the image: a symlink in the image cannot send files to the host', async () => {
    const root = await makeRuntimeRoot();
    const ctx = writeContext({
      'a.txt': 'inside\n',
      Dockerfile: 'FROM busybox\nRUN mkdir /target && ln -s /target /escape && ln -s ../../../../../../../tmp /dots\nCOPY a.txt /escape/\nCOPY a.txt /dots/a-dots.txt\n',
    });
    await build(root, ctx, { tags: ['scoped:1'] });
    expect(await sh(root, 'scoped:1', 'cat /target/a.txt /tmp/a-dots.txt')).toBe('inside\ninside\n');
    expect(() => execFileSync('test', ['-e', '/target/a.txt'])).toThrow();
  });

  it('keys COPY on content: a same-size rewrite with its old mtime restored still misses, a touch alone hits', async () => {
    const root = await makeRuntimeRoot();
    const ctx = writeContext({ 'data.txt': 'aaaa', Dockerfile: 'FROM busybox\nCOPY data.txt /data.txt\nRUN cat /data.txt\n' });
    await build(root, ctx);
    const file = join(ctx, 'data.txt');
    const { mtime, atime } = statSync(file);
    writeFileSync(file, 'bbbb');
    utimesSync(file, atime, mtime);
    const changed = await build(root, ctx, { tags: ['content:1'] });
    expect(changed.result.steps.map((s) => s.cached)).toEqual([false, false]);
    expect(await sh(root, 'content:1', 'cat /data.txt')).toBe('bbbb');
    utimesSync(file, new Date(), new Date());
    const touched = await build(root, ctx);
    expect(touched.result.cacheMisses).toBe(0);
  });

  it('--target builds only the stages it needs; --no-cache runs every step again', async () => {
    const root = await makeRuntimeRoot();
    const ctx = writeContext({
      Dockerfile: 'FROM busybox AS broken\nRUN exit 1\nFROM busybox AS good\nRUN echo good > /good\nFROM good AS final\nRUN cat /good\n',
    });
    const { result } = await build(root, ctx, { target: 'final', tags: ['t:1'] });
    expect(result.steps.map((s) => s.instruction)).toEqual(['RUN echo good > /good', 'RUN cat /good']);
    const again = await build(root, ctx, { target: 'final', noCache: true });
    expect(again.result.cacheHits).toBe(0);
    expect(again.result.cacheMisses).toBe(2);
    expect((await buildFails(root, ctx, { target: 'broken' })).error.message).toMatch(/^Dockerfile:2: The command '\/bin\/sh -c exit 1' returned a non-zero code: 1/);
  });
});

async function tarNames(root: RuntimeRoot, chainId: string): Promise<string[]> {
  const { tar } = await import('../../src/engine/native/image/tarlib.js');
  const extract = tar.extract();
  const names: string[] = [];
  extract.on('entry', (h, s, next) => { names.push(h.name); s.resume(); s.on('end', next); });
  const done = new Promise<void>((r, j) => { extract.on('finish', r); extract.on('error', j); });
  root.store.layerTar(chainId).pipe(extract);
  await done;
  return names;
}
