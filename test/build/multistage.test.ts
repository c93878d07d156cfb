import { describe, it, expect, afterEach } from 'vitest';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkNoLeaks, makeRuntimeRoot, runToEnd } from '../runtime/helpers.js';
import { build, removeContexts, writeContext, storeSnapshot } from './helpers.js';

/**
 * Acceptance 2: a three-stage Dockerfile from the busybox fixture image (no
 * network) builds; building it again is all cache hits; changing one COPY
 * source rebuilds from that step on, nothing before it.
 */

afterEach(async () => {
  removeContexts();
  await checkNoLeaks();
});

const DOCKERFILE = `# syntax=docker/dockerfile:1
# Three stages: deps -> build -> final, all from the busybox fixture.
ARG BASE=busybox
FROM \${BASE} AS deps
WORKDIR /src
COPY deps.txt ./
RUN sort deps.txt > sorted.txt \\
 && echo "deps sorted: $(wc -l < sorted.txt) lines"

FROM busybox AS build
ARG VERSION=1.0
COPY --from=deps /src/sorted.txt /build/
COPY app/ /build/app/
RUN cat /build/app/*.sh > /build/out.sh && echo "echo version=$VERSION" >> /build/out.sh

FROM busybox
LABEL org.example.stage=final
ENV GREETING="hello world" \\
    OTHER=$BASE
COPY --from=build --chown=1000:1000 /build/out.sh /usr/local/bin/app.sh
COPY --from=build /build/sorted.txt /data/
RUN chmod 755 /usr/local/bin/app.sh && mkdir -p /data/cache && rm /bin/vi
USER user
WORKDIR /home/user/work
EXPOSE 8080/tcp 9000-9001/udp
HEALTHCHECK --interval=5s --retries=3 CMD ["true"]
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/usr/local/bin/app.sh"]
CMD ["--help"]
`;

const FILES = {
  Dockerfile: DOCKERFILE,
  'deps.txt': 'zlib\nopenssl\nlibc\n',
  'app/1-main.sh': { content: '#!/bin/sh\necho "$GREETING from $(id -un)"\n', mode: 0o755 },
  'app/2-more.sh': 'echo "args: $*"\n',
};

describe('build: a three-stage Dockerfile with the layer cache', () => {
  it('builds, runs, rebuilds all from the cache, and rebuilds from a changed COPY on', async () => {
    const root = await makeRuntimeRoot();
    const ctx = writeContext(FILES);
    const before = await storeSnapshot(root);

    const first = await build(root, ctx, { tags: ['app:1'] });
    expect(first.output).toMatch(/^Step 1\/22 : FROM \$\{BASE\} AS deps$/m);
    expect(first.output).toContain('deps sorted: 3 lines');
    expect(first.output).toMatch(/Successfully built [0-9a-f]{12}/);
    expect(first.output).toContain('Successfully tagged app:1');
    expect(first.result.cacheHits).toBe(0);
    const image = await root.store.get('app:1');
    expect(image.id).toBe(first.result.imageId);
    const cfg = image.config.config!;
    expect(cfg.Env).toEqual(expect.arrayContaining(['GREETING=hello world', 'OTHER=']));
    expect(cfg.User).toBe('user');
    expect(cfg.WorkingDir).toBe('/home/user/work');
    expect(cfg.ExposedPorts).toEqual({ '8080/tcp': {}, '9000/udp': {}, '9001/udp': {} });
    expect(cfg.Healthcheck).toEqual({ Test: ['CMD', 'true'], Interval: 5_000_000_000, Retries: 3 });
    expect(cfg.StopSignal).toBe('SIGQUIT');
    expect(cfg.Entrypoint).toEqual(['/usr/local/bin/app.sh']);
    expect(cfg.Cmd).toEqual(['--help']);
    expect(cfg.Labels).toEqual({ 'org.example.stage': 'final' });
    // busybox's one layer, then: COPY, COPY, RUN, WORKDIR (the dir did not exist).
    expect(image.chainIds.length).toBe(5);
    expect(image.config.history!.filter((h) => !h.empty_layer).length).toBe(5);

    const run = await runToEnd(root, { image: 'app:1', cmd: ['a', 'b'] });
    expect(run.stdout).toBe('hello world from user\nargs: a b\nversion=1.0\n');
    const check = await runToEnd(root, {
      image: 'app:1', entrypoint: ['sh', '-c'],
      cmd: ['stat -c "%u:%g %a" /usr/local/bin/app.sh; cat /data/sorted.txt; ls -d /data/cache; test -e /bin/vi || echo vi-removed; pwd'],
    });
    expect(check.stdout).toBe('1000:1000 755\nlibc\nopenssl\nzlib\n/data/cache\nvi-removed\n/home/user/work\n');
    for (const id of [run.id, check.id]) await root.runtime.remove(id);

    // Unchanged: every step from the cache, the same image.
    const second = await build(root, ctx, { tags: ['app:1'] });
    console.log(`no-op rebuild of the three-stage Dockerfile: ${second.ms.toFixed(0)} ms`);
    expect(second.result.cacheMisses).toBe(0);
    expect(second.result.cacheHits).toBe(19);
    expect(second.result.imageId).toBe(first.result.imageId);
    expect(second.output).not.toContain('Running in');
    expect((second.output.match(/---> Using cache/g) ?? []).length).toBe(19);

    // One COPY source of the middle stage changes: that step and the rest of its stage run, and
    // the final stage's steps after its COPY --from=build; the deps stage stays cached.
    writeFileSync(join(ctx, 'app/2-more.sh'), 'echo "more args: $*"\n');
    const third = await build(root, ctx, { tags: ['app:1'] });
    const missed = third.result.steps.filter((s) => !s.cached).map((s) => s.instruction);
    expect(missed[0]).toBe('COPY app/ /build/app/');
    expect(third.result.steps.filter((s) => s.stage === 0).every((s) => s.cached)).toBe(true);
    const changedAt = third.result.steps.findIndex((s) => !s.cached);
    expect(third.result.steps.slice(0, changedAt).every((s) => s.cached)).toBe(true);
    // The final stage's config steps before its first COPY --from=build still hit.
    expect(third.result.steps.find((s) => s.instruction.startsWith('LABEL org.example'))!.cached).toBe(true);
    expect(third.result.steps.find((s) => s.instruction.startsWith('COPY --from=build --chown'))!.cached).toBe(false);
    const run3 = await runToEnd(root, { image: 'app:1', cmd: ['x'] });
    expect(run3.stdout).toBe('hello world from user\nmore args: x\nversion=1.0\n');
    await root.runtime.remove(run3.id);

    // What is left: the tag, the images of earlier stages the result does not contain, no RUN bases.
    const after = await storeSnapshot(root);
    expect(after.tmp).toEqual([]);
    const images = await root.store.list();
    const untagged = images.filter((i) => i.repoTags.length === 0);
    // The deps stage, the build stage before and after the change (their layers are their cache),
    // and the first app:1, which lost its tag.
    expect(untagged.length).toBe(4);
    expect(after.images.length).toBe(before.images.length + 5);
    expect(statSync(join(ctx, 'deps.txt')).isFile()).toBe(true);
    expect(readFileSync(join(ctx, 'Dockerfile'), 'utf8')).toBe(DOCKERFILE);
  });
});
