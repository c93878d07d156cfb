import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapDebianRootfs, hostDebianMirrors, isDebianSuite, DEBIAN_IMAGE_CONFIG } from '../../src/build/debian-bootstrap.js';
import { debianMirrors, parseDeb822Sources, parseOneLineSources, renderDeb822Sources } from '../../src/build/debian-apt-sources.js';
import { containerConfigPaths } from '../../src/build/debian-container-tweaks.js';
import { UserError } from '../../src/util/errors.js';
import { cacheDir } from '../support/cache.js';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

describe('apt sources of the host', () => {
  const deb822 = [
    '# a comment',
    'Types: deb',
    '# http://snapshot.debian.org/archive/debian/20250520T000000Z',
    'URIs: http://mirror.example/debian/',
    'Suites: bookworm bookworm-updates',
    'Components: main',
    `Signed-By: ${KEYRING}`,
    '',
    'Types: deb deb-src',
    'URIs: http://mirror.example/debian-security',
    'Suites: bookworm-security',
    'Components: main contrib',
    '',
    'Enabled: no',
    'Types: deb',
    'URIs: http://disabled.example/debian',
    'Suites: trixie',
    'Components: main',
    '',
  ].join('\n');

  it('reads deb822 stanzas, skipping comments and disabled stanzas', () => {
    const sources = parseDeb822Sources(deb822, 'x.sources');
    expect(sources.map((s) => [s.types, s.uris, s.suites])).toEqual([
      [['deb'], ['http://mirror.example/debian/'], ['bookworm', 'bookworm-updates']],
      [['deb', 'deb-src'], ['http://mirror.example/debian-security'], ['bookworm-security']],
    ]);
  });

  it('reads one-line entries, with and without options', () => {
    const sources = parseOneLineSources(
      '# deb http://commented/debian sid main\n' +
        'deb [arch=amd64 signed-by=/k.gpg] https://packages.example/apt cloud-sdk main\n' +
        'deb http://ftp.example/debian bookworm main contrib # trailing comment\n',
    );
    expect(sources.map((s) => [s.uris[0], s.suites[0], s.components])).toEqual([
      ['https://packages.example/apt', 'cloud-sdk', ['main']],
      ['http://ftp.example/debian', 'bookworm', ['main', 'contrib']],
    ]);
  });

  it('picks the Debian mirrors and leaves third-party repositories out, whatever their order', () => {
    const thirdParty = parseOneLineSources('deb https://deb.nodesource.com/node_20.x nodistro main\n');
    const mirrors = debianMirrors([...thirdParty, ...parseDeb822Sources(deb822)], isDebianSuite);
    expect(mirrors).toEqual({ mirror: 'http://mirror.example/debian', securityMirror: 'http://mirror.example/debian-security' });
    expect(debianMirrors(thirdParty, isDebianSuite)).toEqual({
      mirror: 'http://deb.debian.org/debian',
      securityMirror: 'http://deb.debian.org/debian-security',
    });
  });

  it('writes the suites each release has', () => {
    const m = { mirror: 'http://m/debian', securityMirror: 'http://m/debian-security' };
    const bookworm = parseDeb822Sources(renderDeb822Sources('bookworm', m, KEYRING));
    expect(bookworm.map((s) => [s.uris[0], s.suites])).toEqual([
      ['http://m/debian', ['bookworm', 'bookworm-updates']],
      ['http://m/debian-security', ['bookworm-security']],
    ]);
    expect(parseDeb822Sources(renderDeb822Sources('sid', m, KEYRING)).map((s) => s.suites)).toEqual([['sid']]);
    expect(parseDeb822Sources(renderDeb822Sources('buster', m, KEYRING))[1]!.suites).toEqual(['buster/updates']);
  });

  it('knows Debian suites from debootstrap\'s scripts', () => {
    expect(isDebianSuite('bookworm')).toBe(true);
    expect(isDebianSuite('stable')).toBe(true);
    expect(isDebianSuite('jammy')).toBe(false); // Ubuntu
    expect(isDebianSuite('../sid')).toBe(false);
    expect(isDebianSuite('nosuch')).toBe(false);
  });
});

describe('bootstrapDebianRootfs', () => {
  it('refuses a suite that is not Debian\'s before making anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-debboot-bad-'));
    try {
      for (const suite of ['jammy', 'bookworm;rm', '']) {
        const err = await bootstrapDebianRootfs({ suite, cacheDir: dir }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(UserError);
        expect((err as UserError).message).toContain(`debian:${suite}`);
        expect((err as UserError).hint).toMatch(/bookworm/);
      }
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      execFileSync('rm', ['-rf', dir]);
    }
  });

  describe('bookworm, from the host\'s mirror', () => {
    let tarPath = '';
    let listing: string[] = [];
    const extract = (path: string) =>
      execFileSync('tar', ['-xOf', tarPath, `./${path}`], { encoding: 'utf8', maxBuffer: 1 << 24 });

    beforeAll(async () => {
      const rootfs = await bootstrapDebianRootfs({ suite: 'bookworm', cacheDir: cacheDir('images') });
      tarPath = rootfs.tarPath;
      expect(rootfs.config).toEqual(DEBIAN_IMAGE_CONFIG);
      listing = execFileSync('tar', ['-tvf', tarPath], { encoding: 'utf8', maxBuffer: 1 << 26 }).trim().split('\n');
    }, 20 * 60_000);

    const entry = (path: string) => listing.find((l) => l.endsWith(` ./${path}`) || l.includes(` ./${path} -> `));

    it('has the container settings of Docker Hub\'s image', () => {
      expect(entry('usr/sbin/policy-rc.d')).toMatch(/^-rwxr-xr-x 0\/0 /);
      expect(extract('usr/sbin/policy-rc.d')).toMatch(/^#!\/bin\/sh\n[\s\S]*exit 101\n$/);
      for (const p of containerConfigPaths()) expect(entry(p), p).toBeDefined();
      expect(extract('etc/apt/apt.conf.d/docker-clean')).toContain('Dir::Cache::pkgcache "";');
      expect(extract('etc/apt/apt.conf.d/docker-no-recommends')).toContain('APT::Install-Recommends "false";');
      expect(extract('etc/dpkg/dpkg.cfg.d/docker-apt-speedup')).toBe('force-unsafe-io\n');
    });

    it('carries nothing of the build host', () => {
      const under = (dir: string) => listing.filter((l) => l.includes(` ./${dir}/`) && !l.endsWith(` ./${dir}/`));
      expect(under('dev')).toEqual([]);
      expect(under('proc')).toEqual([]);
      expect(under('tmp')).toEqual([]);
      expect(under('var/lib/apt/lists')).toEqual([]);
      expect(under('var/cache/apt/archives').filter((l) => l.endsWith('.deb'))).toEqual([]);
      expect(extract('etc/hostname')).toBe('');
      expect(extract('etc/resolv.conf')).toBe('');
      expect(extract('etc/hosts')).not.toContain(execFileSync('hostname', { encoding: 'utf8' }).trim());
      expect(extract('var/log/dpkg.log')).toBe('');
      expect(entry('debootstrap')).toBeUndefined();
    });

    it('points apt at the host\'s mirror for the release, its updates and its security suite', () => {
      expect(entry('etc/apt/sources.list')).toBeUndefined();
      const sources = parseDeb822Sources(extract('etc/apt/sources.list.d/debian.sources'));
      const m = hostDebianMirrors();
      expect(sources.map((s) => [s.uris[0], s.suites])).toEqual([
        [m.mirror, ['bookworm', 'bookworm-updates']],
        [m.securityMirror, ['bookworm-security']],
      ]);
    });

    it('is up to date with bookworm-updates and bookworm-security, and its apt works', () => {
      // Unpack it and ask its own apt what an upgrade would do now: nothing, when the upgrade ran.
      const dir = mkdtempSync(join(tmpdir(), 'tsc-debboot-check-'));
      try {
        execFileSync('tar', ['-xf', tarPath, '-C', dir, '--numeric-owner']);
        execFileSync('cp', ['/etc/resolv.conf', join(dir, 'etc/resolv.conf')]);
        // The image's /dev is empty (the runtime mounts one): lend it the host's, in a mount namespace that dies with it.
        const script = 'mount --rbind /dev "$0/dev" && mount -t proc proc "$0/proc" && exec chroot "$0" /bin/sh -c "$1"';
        const r = spawnSync('unshare', ['--mount', '--pid', '--fork', '--kill-child', 'sh', '-c', script, dir,
          'apt-get update -qq && apt-get -s upgrade'], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/^0 upgraded, 0 newly installed/m);
      } finally {
        execFileSync('rm', ['-rf', '--one-file-system', dir]);
      }
    }, 5 * 60_000);

    it('is made once per suite: a second call returns the cached tar untouched', async () => {
      const before = statSync(tarPath).mtimeMs;
      const again = await bootstrapDebianRootfs({ suite: 'bookworm', cacheDir: cacheDir('images') });
      expect(again.cached).toBe(true);
      expect(again.tarPath).toBe(tarPath);
      expect(statSync(tarPath).mtimeMs).toBe(before);
      again.dispose();
      expect(statSync(tarPath).isFile()).toBe(true);
    });
  });
});
