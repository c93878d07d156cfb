import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What turns a debootstrap tree into a container base image like Docker
 * Hub's `debian:<suite>`: apt and dpkg configured for throwaway layers, no
 * service starts during package installs, and nothing of the build host
 * (its hostname, resolvers, device nodes, logs, package lists) left behind.
 */

/** Files written before the upgrade, so that it already runs with them. */
const CONTAINER_FILES: ReadonlyArray<{ path: string; mode: number; text: string }> = [
  {
    // invoke-rc.d asks this before starting a service from a maintainer script; 101 = "action not allowed".
    // A container has no init system: without it, installing mariadb-server tries to start the server.
    path: 'usr/sbin/policy-rc.d',
    mode: 0o755,
    text: '#!/bin/sh\n# Containers run no init system: package installs must not start services.\nexit 101\n',
  },
  {
    // Layers are throwaway: dpkg need not fsync every file it unpacks.
    path: 'etc/dpkg/dpkg.cfg.d/docker-apt-speedup',
    mode: 0o644,
    text: 'force-unsafe-io\n',
  },
  {
    // Downloaded .debs and the binary caches would otherwise end up in every image layer that runs apt-get.
    path: 'etc/apt/apt.conf.d/docker-clean',
    mode: 0o644,
    text:
      'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n' +
      'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n' +
      'Dir::Cache::pkgcache "";\n' +
      'Dir::Cache::srcpkgcache "";\n',
  },
  {
    path: 'etc/apt/apt.conf.d/docker-no-recommends',
    mode: 0o644,
    text: 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n',
  },
  {
    path: 'etc/apt/apt.conf.d/docker-autoremove-suggests',
    mode: 0o644,
    text: 'Apt::AutoRemove::SuggestsImportant "false";\n',
  },
  {
    // Translations of package descriptions are never read in a container.
    path: 'etc/apt/apt.conf.d/docker-no-languages',
    mode: 0o644,
    text: 'Acquire::Languages "none";\n',
  },
  {
    path: 'etc/apt/apt.conf.d/docker-gzip-indexes',
    mode: 0o644,
    text: 'Acquire::GzipIndexes "true";\n',
  },
];

const HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';

export function writeContainerConfig(root: string): void {
  for (const f of CONTAINER_FILES) {
    const path = join(root, f.path);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, f.text);
    chmodSync(path, f.mode);
  }
}

/** The paths (relative to the root) of the files writeContainerConfig writes, for checks. */
export function containerConfigPaths(): string[] {
  return CONTAINER_FILES.map((f) => f.path);
}

/**
 * Removes what the build host left in the tree. The runtime writes its own
 * hostname, hosts and resolv.conf into every container and mounts /dev, so
 * the image carries empty placeholders only.
 */
export function scrubBuildHost(root: string): void {
  replaceWithFile(join(root, 'etc/hostname'), '');
  replaceWithFile(join(root, 'etc/resolv.conf'), '');
  replaceWithFile(join(root, 'etc/hosts'), HOSTS);
  if (existsSync(join(root, 'etc/machine-id'))) replaceWithFile(join(root, 'etc/machine-id'), '');

  emptyDir(join(root, 'dev'));
  emptyDir(join(root, 'proc'));
  emptyDir(join(root, 'sys'));
  emptyDir(join(root, 'tmp'));
  chmodSync(join(root, 'tmp'), 0o1777);
  emptyDir(join(root, 'var/tmp'));
  chmodSync(join(root, 'var/tmp'), 0o1777);

  // Package lists are ~50 MB and stale by the time anyone builds on the image: every Dockerfile runs apt-get update.
  emptyDir(join(root, 'var/lib/apt/lists'));
  removeMatching(join(root, 'var/cache/apt'), (name) => name.endsWith('.bin'));
  removeMatching(join(root, 'var/cache/apt/archives'), (name) => name.endsWith('.deb'));
  removeMatching(join(root, 'var/cache/apt/archives/partial'), () => true);
  removeMatching(join(root, 'var/cache/debconf'), (name) => name.endsWith('-old'));
  removeMatching(join(root, 'var/lib/dpkg'), (name) => name.endsWith('-old'));

  // Logs of the build: keep the files (packages own some of them), drop their content.
  rmSync(join(root, 'var/log/bootstrap.log'), { force: true });
  rmSync(join(root, 'var/log/apt/eipp.log.xz'), { force: true });
  truncateLogs(join(root, 'var/log'));
  rmSync(join(root, 'debootstrap'), { recursive: true, force: true });
}

function replaceWithFile(path: string, text: string): void {
  // debootstrap may have left a symlink to the host's file (resolv.conf under systemd-resolved).
  rmSync(path, { force: true });
  writeFileSync(path, text, { mode: 0o644 });
}

function emptyDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
}

function removeMatching(dir: string, match: (name: string) => boolean): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (match(name) && !lstatSync(path).isDirectory()) rmSync(path, { force: true });
  }
}

function truncateLogs(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isDirectory()) truncateLogs(path);
    else if (st.isFile() && name.endsWith('.log')) truncateSync(path, 0);
  }
}
