import { describe, it, expect, afterEach } from 'vitest';
import { checkNoLeaks, makeRuntimeRoot } from '../runtime/helpers.js';
import { buildFails, removeContexts, storeSnapshot, writeContext } from './helpers.js';

/**
 * Acceptance 3: broken Dockerfiles fail with `Dockerfile:line` (the first
 * line of the instruction at fault), before or after steps ran, and leave
 * the store as it was: no image, no tag moved, no staging dir, no container
 * (the leak check).
 */

afterEach(async () => {
  removeContexts();
  await checkNoLeaks();
});

interface Case {
  name: string;
  dockerfile: string;
  error: RegExp;
  files?: Record<string, string>;
  target?: string;
  /** Steps that ran before the failure (so that cleanup is tested too). */
  ran?: boolean;
}

const CASES: Case[] = [
  { name: 'unknown instruction', dockerfile: 'FROM busybox\nRUNN echo hi\n', error: /^Dockerfile:2: unknown instruction: RUNN$/ },
  { name: 'instruction before FROM', dockerfile: '# comment\nRUN echo hi\nFROM busybox\n', error: /^Dockerfile:2: no build stage in current context/ },
  { name: 'FROM with two words', dockerfile: 'FROM busybox AS\n', error: /^Dockerfile:1: FROM requires either one argument, or three/ },
  { name: 'COPY with one argument', dockerfile: 'FROM busybox\n\nCOPY onlyone\n', error: /^Dockerfile:3: COPY requires at least two arguments, but only one was provided/ },
  { name: 'ENV without a value', dockerfile: 'FROM busybox\nENV ONLYNAME\n', error: /^Dockerfile:2: ENV ONLYNAME has no value/ },
  { name: 'a BuildKit-only flag', dockerfile: 'FROM busybox\nRUN --mount=type=cache,target=/c true\n', error: /^Dockerfile:2: unknown flag: --mount for RUN \(a BuildKit feature/ },
  { name: 'a bad HEALTHCHECK duration', dockerfile: 'FROM busybox\nHEALTHCHECK --interval=abc CMD true\n', error: /^Dockerfile:2: --interval=abc is not a duration/ },
  { name: 'SHELL not in JSON form', dockerfile: 'FROM busybox\nSHELL /bin/sh -c\n', error: /^Dockerfile:2: SHELL requires the arguments to be in JSON form/ },
  { name: 'an unterminated quote over continued lines', dockerfile: 'FROM busybox\nENV A="one \\\n  two\n', error: /^Dockerfile:2: unmatched double quote/ },
  { name: 'a bad substitution', dockerfile: 'FROM busybox\nRUN true\nWORKDIR ${DIR\n', error: /^Dockerfile:3: .*missing '}'/, ran: true },
  { name: 'a required ARG unset', dockerfile: 'FROM busybox\nARG VERSION\nRUN true\nLABEL v=${VERSION:?give --build-arg VERSION}\n', error: /^Dockerfile:4: VERSION: give --build-arg VERSION$/, ran: true },
  { name: 'a bad EXPOSE', dockerfile: 'FROM busybox\nEXPOSE 80/tcpx\n', error: /^Dockerfile:2: invalid proto "tcpx" in EXPOSE 80\/tcpx/ },
  { name: 'COPY of a missing file after steps ran', dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN echo ran\nCOPY nope.txt /\n', files: { 'a.txt': 'a' }, error: /^Dockerfile:4: "nope.txt" not found in the build context/, ran: true },
  { name: 'a failing RUN after a COPY', dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN echo partial > /partial \\\n && exit 3\n', files: { 'a.txt': 'a' }, error: /^Dockerfile:3: The command '\/bin\/sh -c echo partial > \/partial  && exit 3' returned a non-zero code: 3$/, ran: true },
  { name: 'COPY --from a later stage', dockerfile: 'FROM busybox AS one\nCOPY --from=two /x /x\nFROM busybox AS two\n', target: 'one', error: /^Dockerfile:2: COPY --from=two: the stage two is defined after this instruction/ },
  { name: 'a user that does not exist', dockerfile: 'FROM busybox\nUSER nosuchuser\nRUN true\n', error: /^Dockerfile:3: .*unable to find user nosuchuser/ },
  { name: 'COPY --chown to a name the image lacks', dockerfile: 'FROM busybox\nCOPY --chown=ghost a.txt /\n', files: { 'a.txt': 'a' }, error: /^Dockerfile:2: unable to find user ghost/ },
  { name: 'a base image no registry has', dockerfile: 'FROM 127.0.0.1:1/nosuch/image:1\n', error: /^Dockerfile:1: FROM 127\.0\.0\.1:1\/nosuch\/image:1: cannot reach registry 127\.0\.0\.1:1/ },
  { name: 'COPY --from an image no registry has, after steps ran', dockerfile: 'FROM busybox\nRUN true\nCOPY --from=127.0.0.1:1/nosuch/image:1 /x /x\n', error: /^Dockerfile:3: FROM 127\.0\.0\.1:1\/nosuch\/image:1: cannot reach registry/, ran: true },
  { name: 'a forbidden path', dockerfile: 'FROM busybox\nCOPY ../outside /x\n', error: /^Dockerfile:2: forbidden path outside the build context: \.\.\/outside/ },
  { name: 'several sources to a file', dockerfile: 'FROM busybox\nCOPY a.txt b.txt /dest\n', files: { 'a.txt': 'a', 'b.txt': 'b' }, error: /^Dockerfile:2: When using COPY with more than one source file, the destination must be a directory and end with a \// },
  { name: 'an invalid escape directive', dockerfile: '# escape=x\nFROM busybox\n', error: /^Dockerfile:1: invalid escape token 'x'/ },
  { name: 'a missing target', dockerfile: 'FROM busybox AS a\n', target: 'b', error: /target stage "b" could not be found in Dockerfile/ },
];

describe('build: broken Dockerfiles', () => {
  it.each(CASES)('$name', async (c) => {
    const root = await makeRuntimeRoot();
    // The tag already points at busybox: a failed build must not move it.
    await root.store.tag('busybox:latest', 'app:broken');
    const before = await storeSnapshot(root);
    const ctx = writeContext({ Dockerfile: c.dockerfile, ...(c.files ?? {}) });
    const { error, output } = await buildFails(root, ctx, { tags: ['app:broken'], ...(c.target ? { target: c.target } : {}) });
    expect(error.message).toMatch(c.error);
    if (c.ran) expect(output).toMatch(/---> /);
    expect(await storeSnapshot(root)).toEqual(before);
    expect((await root.store.get('app:broken')).id).toBe((await root.store.get('busybox:latest')).id);
    expect(await root.runtime.list({ all: true })).toEqual([]);
  });
});
