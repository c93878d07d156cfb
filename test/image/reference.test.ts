import { describe, it, expect } from 'vitest';
import {
  parseReference, referenceString, familiarString, familiarName, withDefaultTag, normalizeTaggedName, chainIds, chainIdOf, sha256Digest,
} from '../../src/engine/native/image/index.js';
import { humanSize, humanDuration, renderTemplate, table } from '../../src/cli/present/docker.js';
import { applyChanges } from '../../src/engine/native/image/changes.js';

describe('references (Docker normalization)', () => {
  const cases: [string, string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['mariadb:10.11', 'docker.io/library/mariadb:10.11', 'mariadb:10.11'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['docker.io/library/busybox:1', 'docker.io/library/busybox:1', 'busybox:1'],
    ['index.docker.io/me/app', 'docker.io/me/app:latest', 'me/app:latest'],
    ['me/app:v2', 'docker.io/me/app:v2', 'me/app:v2'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['localhost:5000/team/app:1.0', 'localhost:5000/team/app:1.0', 'localhost:5000/team/app:1.0'],
    ['registry.local/a/b/c', 'registry.local/a/b/c:latest', 'registry.local/a/b/c:latest'],
    ['docker.io/library/a/b', 'docker.io/library/a/b:latest', 'library/a/b:latest'],
    [`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`, `busybox@sha256:${'a'.repeat(64)}`],
    ['my_app.v2-x__y', 'docker.io/library/my_app.v2-x__y:latest', 'my_app.v2-x__y:latest'],
  ];
  for (const [input, full, familiar] of cases) {
    it(`${input} → ${full}`, () => {
      const ref = withDefaultTag(parseReference(input));
      expect(referenceString(ref)).toBe(full);
      expect(familiarString(ref)).toBe(familiar);
    });
  }

  it('says what is wrong with bad references', () => {
    expect(() => parseReference('Busybox')).toThrow('repository name (library/Busybox) must be lowercase');
    expect(() => parseReference('a'.repeat(64).replace(/a/g, 'b'))).toThrow(/cannot specify 64-byte hexadecimal strings/);
    expect(() => parseReference('busybox:-bad')).toThrow(/"-bad" is not a valid tag/);
    expect(() => parseReference('bad//name')).toThrow(/"" is not a valid name component/);
    expect(() => parseReference('a@sha256:xyz')).toThrow(/is not a digest/);
    expect(() => parseReference('')).toThrow(/it is empty/);
    expect(() => normalizeTaggedName(`a@sha256:${'0'.repeat(64)}`)).toThrow(/refusing to create a tag with a digest reference/);
  });

  it('familiar names drop only docker.io and library/', () => {
    expect(familiarName(parseReference('quay.io/library/x'))).toBe('quay.io/library/x');
    // As in Docker, an uppercase first component is a registry host, not a repository.
    expect(parseReference('UPPER/app')).toEqual({ domain: 'UPPER', path: 'app' });
  });
});

describe('chain ids (image-spec config.md)', () => {
  it('chains DiffIDs with sha256("parent diff")', () => {
    const a = sha256Digest('a');
    const b = sha256Digest('b');
    expect(chainIdOf(null, a)).toBe(a);
    expect(chainIds([a, b])).toEqual([a, sha256Digest(`${a} ${b}`)]);
  });
});

describe('docker CLI presentation', () => {
  it('sizes and durations as go-units prints them', () => {
    expect([0, 999, 1000, 1234, 4_260_000, 125_400_000, 1_500_000_000].map(humanSize)).toEqual(['0B', '999B', '1kB', '1.23kB', '4.26MB', '125MB', '1.5GB']);
    expect([500, 1000, 5000, 61_000, 3_000_000, 3_600_000, 5 * 3_600_000, 3 * 86_400_000, 20 * 86_400_000, 90 * 86_400_000, 800 * 86_400_000].map(humanDuration))
      .toEqual(['Less than a second', '1 second', '5 seconds', 'About a minute', '50 minutes', 'About an hour', '5 hours', '3 days', '2 weeks', '3 months', '2 years']);
  });

  it('renders the Go template subset and tabwriter tables', () => {
    const v = { ID: 'abc', Config: { Env: ['A=1', 'B=2'], Labels: { x: 'y' } } };
    expect(renderTemplate('{{.ID}}\\t{{json .Config.Env}} {{.Config.Env}} {{.Config.Labels}}', v)).toBe('abc\t["A=1","B=2"] [A=1 B=2] map[x:y]');
    expect(() => renderTemplate('{{.Nope}}', v)).toThrow(/can't evaluate field Nope/);
    expect(table([['REPOSITORY', 'TAG'], ['busybox', 'latest']])).toBe('REPOSITORY   TAG\nbusybox      latest\n');
  });
});

describe('--change instructions', () => {
  it('applies config-only Dockerfile instructions', () => {
    const c = applyChanges({ Env: ['A=0'] }, [
      'ENV A=1 B="two words"', 'ENV C 3 4', 'CMD echo hi', 'ENTRYPOINT ["/bin/tini", "--"]', 'EXPOSE 80 53/udp', 'LABEL a=b "c d"=e',
      'USER www-data', 'WORKDIR /srv', 'WORKDIR app', 'VOLUME /data', 'STOPSIGNAL SIGQUIT',
    ]);
    expect(c).toEqual({
      Env: ['A=1', 'B=two words', 'C=3 4'],
      Cmd: ['/bin/sh', '-c', 'echo hi'],
      Entrypoint: ['/bin/tini', '--'],
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Labels: { a: 'b', 'c d': 'e' },
      User: 'www-data',
      WorkingDir: '/srv/app',
      Volumes: { '/data': {} },
      StopSignal: 'SIGQUIT',
    });
    expect(() => applyChanges({}, ['RUN rm -rf /'])).toThrow(/RUN cannot be applied to an image config/);
  });
});
