import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, runOk } from '../../src/util/proc.js';
import { repoRoot } from '../support/cache.js';
import { ensureDockerDebianBase } from '../support/debian-base.js';
import { withExampleBuildLock } from './support/build-lock.js';

/**
 * The example's images, run alone on dockerd: they must behave like Docker
 * Hub's mariadb:10.11 and wordpress:6.1 for what a compose file can ask of
 * them (environment variables, *_FILE secrets, init scripts, first start
 * versus later starts, healthcheck.sh, stop signal). Every container sits on
 * an `--internal` network: nothing here can reach out of the machine.
 */
const EXAMPLE = join(repoRoot, 'examples/wordpress-mysql');
const MINUTE = 60_000;
const tag = randomBytes(4).toString('hex');
const NETWORK = `tsc-images-${tag}`;
const made: string[] = [];
const volumes: string[] = [];
let scratch = '';

const docker = (...args: string[]) => runOk('docker', args);

/** Starts a container on the test's internal network; it is removed (with its anonymous volumes) after the tests. */
async function start(name: string, args: string[]): Promise<string> {
  const full = `tsc-images-${tag}-${name}`;
  made.push(full);
  await docker('run', '-d', '--name', full, '--network', NETWORK, '--label', `tsc-test=${tag}`, ...args);
  return full;
}

async function logs(container: string): Promise<string> {
  const r = await run('docker', ['logs', container]);
  return r.stdout + r.stderr;
}

/** Polls until the command in the container succeeds; fails with the container's log. */
async function waitExec(container: string, cmd: string[], timeoutMs = 2 * MINUTE): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const r = await run('docker', ['exec', container, ...cmd]);
    if (r.code === 0) return r.stdout;
    const state = (await docker('inspect', '-f', '{{.State.Status}}', container)).trim();
    if (state !== 'running' || Date.now() - t0 > timeoutMs) {
      throw new Error(`${cmd.join(' ')} did not succeed in ${container} (${state}): ${r.stderr}\n--- log:\n${await logs(container)}`);
    }
    await sleep(300);
  }
}

/** Polls the container's log until it matches (e.g. the server's start after the first start's set-up). */
async function waitLog(container: string, pattern: RegExp, timeoutMs = 2 * MINUTE): Promise<void> {
  const t0 = Date.now();
  while (!pattern.test(await logs(container))) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${container} never logged ${pattern}:\n${await logs(container)}`);
    await sleep(300);
  }
}

const healthy = (db: string) => waitExec(db, ['healthcheck.sh', '--connect', '--innodb_initialized']);

async function sql(db: string, user: string, password: string, query: string, database = ''): Promise<string> {
  // Over TCP, as another container would connect (not the socket, where root@localhost would answer).
  const args = ['exec', db, 'mariadb', '--protocol=tcp', '-h127.0.0.1', `-u${user}`, `-p${password}`, '--batch', '--skip-column-names'];
  return (await docker(...args, ...(database ? [database] : []), '-e', query)).trim();
}

beforeAll(async () => {
  await ensureDockerDebianBase('bookworm');
  await withExampleBuildLock(async () => {
    await docker('build', '--network', 'host', '-q', '-t', 'mariadb:10.11', join(EXAMPLE, 'db'));
    await docker('build', '--network', 'host', '-q', '-t', 'wordpress:6.1', join(EXAMPLE, 'wordpress'));
  });
  await docker('network', 'create', '--internal', '--label', `tsc-test=${tag}`, NETWORK);
  scratch = mkdtempSync(join(tmpdir(), 'tsc-images-'));
}, 30 * MINUTE);

afterAll(async () => {
  for (const c of made) await run('docker', ['rm', '-f', '-v', c]);
  for (const v of volumes) await run('docker', ['volume', 'rm', '-f', v]);
  await run('docker', ['network', 'rm', NETWORK]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, 5 * MINUTE);

describe('mariadb:10.11 from Debian packages', () => {
  it('refuses a first start without a root password option, with the official image\'s advice', async () => {
    const r = await run('docker', ['run', '--rm', '--network', NETWORK, 'mariadb:10.11']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/MARIADB_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD_HASH, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD or MARIADB_RANDOM_ROOT_PASSWORD/);
    const root = await run('docker', ['run', '--rm', '--network', NETWORK, '-e', 'MYSQL_ROOT_PASSWORD=x', '-e', 'MYSQL_USER=root', 'mariadb:10.11']);
    expect(root.code).toBe(1);
    expect(root.stderr).toContain('MARIADB_USER="root"');
  });

  it('initialises from MYSQL_* / MARIADB_* and *_FILE, runs initdb.d once, and a restart keeps the data', async () => {
    const initdb = join(scratch, 'initdb');
    const password = `it's a \\ "secret"`;
    writeFileSync(join(scratch, 'root-password'), `${password}\n`);
    mkdirSync(initdb);
    writeFileSync(join(initdb, '10-table.sql'), 'CREATE TABLE seen (n INT); INSERT INTO seen VALUES (1);\n');
    writeFileSync(join(initdb, '20-more.sh'), '#!/bin/bash\necho "INSERT INTO seen VALUES (2);" | docker_process_sql --database="$MARIADB_DATABASE"\n');
    chmodSync(join(scratch, 'root-password'), 0o644);
    const db = await start('db-init', [
      '-v', `${initdb}:/docker-entrypoint-initdb.d:ro`,
      '-v', `${join(scratch, 'root-password')}:/run/secrets/root:ro`,
      '-e', 'MARIADB_ROOT_PASSWORD_FILE=/run/secrets/root',
      '-e', 'MYSQL_DATABASE=app_db', '-e', 'MARIADB_USER=app', '-e', 'MYSQL_PASSWORD=app-pw',
      'mariadb:10.11',
    ]);
    await healthy(db);
    expect(await sql(db, 'root', password, 'SELECT CURRENT_USER()')).toBe('root@%');
    expect(await sql(db, 'app', 'app-pw', 'SELECT GROUP_CONCAT(n ORDER BY n) FROM seen', 'app_db')).toBe('1,2');
    // The user sees its database and nothing else.
    expect((await run('docker', ['exec', db, 'mariadb', '--protocol=tcp', '-h127.0.0.1', '-uapp', '-papp-pw', 'mysql', '-e', 'SELECT 1'])).code).not.toBe(0);
    // uid 999, as the official image, for the server and its files.
    expect((await docker('exec', db, 'stat', '-c', '%u:%g', '/var/lib/mysql')).trim()).toBe('999:999');
    expect(await docker('exec', db, 'grep', '^Uid:', '/proc/1/status')).toMatch(/^Uid:\s+999\s/);

    await docker('restart', db);
    await healthy(db);
    expect(await sql(db, 'app', 'app-pw', 'SELECT GROUP_CONCAT(n ORDER BY n) FROM seen', 'app_db')).toBe('1,2');
    expect((await logs(db)).match(/Initializing database files/g)).toHaveLength(1);
  }, 5 * MINUTE);

  it('MARIADB_RANDOM_ROOT_PASSWORD prints a generated password that logs in', async () => {
    const db = await start('db-random', ['-e', 'MARIADB_RANDOM_ROOT_PASSWORD=1', '-e', 'MARIADB_INITDB_SKIP_TZINFO=1', 'mariadb:10.11']);
    await healthy(db);
    const generated = /GENERATED ROOT PASSWORD: (\S+)/.exec(await logs(db))?.[1];
    expect(generated).toBeDefined();
    expect(await sql(db, 'root', generated!, 'SELECT 1')).toBe('1');
    expect((await run('docker', ['exec', db, 'mariadb', '--protocol=tcp', '-h127.0.0.1', '-uroot', '-e', 'SELECT 1'])).code).not.toBe(0);
  }, 5 * MINUTE);

  it('healthcheck.sh --connect fails while the server takes no TCP connections', async () => {
    const db = await start('db-nonet', ['-e', 'MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1', '-e', 'MARIADB_INITDB_SKIP_TZINFO=1', 'mariadb:10.11', '--skip-networking']);
    // The real server, not the first start's temporary one (which has no networking either).
    await waitLog(db, /init process done[\s\S]*ready for connections/);
    await waitExec(db, ['mariadb', '-uroot', '-e', 'SELECT 1']);
    const probe = await run('docker', ['exec', db, 'healthcheck.sh', '--connect']);
    expect(probe.code).toBe(1);
    expect((await run('docker', ['exec', db, 'healthcheck.sh', '--no-such-check'])).code).toBe(1);
  }, 5 * MINUTE);
});

describe('wordpress:6.1 from Debian packages', () => {
  let db = '';
  const dbPassword = 'wp-db-secret';

  beforeAll(async () => {
    db = await start('wp-db', [
      '--network-alias', 'database',
      '-e', 'MARIADB_ROOT_PASSWORD=root', '-e', 'MARIADB_DATABASE=site', '-e', 'MARIADB_USER=site',
      '-e', `MARIADB_PASSWORD=${dbPassword}`, '-e', 'MARIADB_INITDB_SKIP_TZINFO=1',
      'mariadb:10.11',
    ]);
    await healthy(db);
  }, 5 * MINUTE);

  /** An HTTP request made from inside the container (the network is internal: no port is published). */
  async function http(container: string, path: string, form?: Record<string, string>): Promise<{ status: number; body: string }> {
    const php = [
      '$o = ["http" => ["ignore_errors" => true, "follow_location" => 0]];',
      'if ($argv[2] !== "") { $o["http"]["method"] = "POST"; $o["http"]["header"] = "Content-Type: application/x-www-form-urlencoded"; $o["http"]["content"] = $argv[2]; }',
      '$b = file_get_contents("http://localhost" . $argv[1], false, stream_context_create($o));',
      'echo explode(" ", $http_response_header[0])[1], "\\n", $b;',
    ].join(' ');
    const out = await docker('exec', container, 'php', '-r', php, path, form ? new URLSearchParams(form).toString() : '');
    const nl = out.indexOf('\n');
    return { status: Number(out.slice(0, nl)), body: out.slice(nl + 1) };
  }

  it('reads WORDPRESS_* (and *_FILE) on each request, installs, and keeps its keys in the volume', async () => {
    writeFileSync(join(scratch, 'wp-db-password'), `${dbPassword}\n`);
    const volume = `tsc-images-${tag}-wpdata`;
    volumes.push(volume);
    const args = [
      '-v', `${volume}:/var/lib/wordpress`,
      '-v', `${join(scratch, 'wp-db-password')}:/run/secrets/db:ro`,
      '-e', 'WORDPRESS_DB_HOST=database', '-e', 'WORDPRESS_DB_USER=site', '-e', 'WORDPRESS_DB_NAME=site',
      '-e', 'WORDPRESS_DB_PASSWORD_FILE=/run/secrets/db', '-e', 'WORDPRESS_TABLE_PREFIX=tsc_',
      '-e', "WORDPRESS_CONFIG_EXTRA=define('WP_HTTP_BLOCK_EXTERNAL', true);",
      'wordpress:6.1',
    ];
    const wp = await start('wp', args);
    await waitExec(wp, ['php', '-r', 'exit(@file_get_contents("http://localhost/wp-admin/install.php") === false ? 1 : 0);']);
    const install = await http(wp, '/wp-admin/install.php?step=2', {
      weblog_title: 'Images test', user_name: 'admin', admin_password: 'pw pw pw pw', admin_password2: 'pw pw pw pw',
      pw_weak: '1', admin_email: 'admin@example.com', blog_public: '0',
    });
    expect(install.status).toBe(200);
    expect(install.body).toContain('<h1>Success!</h1>');
    expect(await sql(db, 'site', dbPassword, "SHOW TABLES LIKE 'tsc\\_options'", 'site')).toBe('tsc_options');

    // The keys live in the volume: a new container with the same volume signs cookies the same way.
    const salts = await docker('exec', wp, 'cat', '/var/lib/wordpress/wp-salts.php');
    expect(salts).toMatch(/'AUTH_KEY' => '[A-Za-z0-9+/=]{64}'/);
    await docker('rm', '-f', wp);
    const wp2 = await start('wp2', args);
    await waitExec(wp2, ['test', '-s', '/var/lib/wordpress/wp-salts.php']);
    expect(await docker('exec', wp2, 'cat', '/var/lib/wordpress/wp-salts.php')).toBe(salts);
    const home = await http(wp2, '/');
    expect(home.status).toBe(200);
    expect(home.body).toContain('Images test');
    // Themes are symlinks into Debian's packages; Apache must follow them.
    expect((await http(wp2, '/wp-content/themes/twentytwentythree/style.css')).status).toBe(200);
  }, 5 * MINUTE);

  it('answers 500 "Error establishing a database connection" when the database cannot be reached', async () => {
    const wp = await start('wp-nodb', ['-e', 'WORDPRESS_DB_HOST=127.0.0.1:3307', 'wordpress:6.1']);
    await waitExec(wp, ['php', '-r', 'exit(@fsockopen("localhost", 80) ? 0 : 1);']);
    const page = await http(wp, '/');
    expect(page.status).toBe(500);
    expect(page.body).toContain('Error establishing a database connection');
  }, 5 * MINUTE);

  it('stops gracefully on its stop signal (SIGWINCH), without being killed', async () => {
    const wp = await start('wp-stop', ['-e', 'WORDPRESS_DB_HOST=database', 'wordpress:6.1']);
    // An answered request, not just an accepted connection: the kernel accepts connections as soon as
    // the socket listens, before Apache has its signal handlers (a SIGWINCH then would be ignored).
    await waitExec(wp, ['php', '-r', 'exit(@file_get_contents("http://localhost/readme.html") === false ? 1 : 0);']);
    expect((await docker('inspect', '-f', '{{.Config.StopSignal}}', wp)).trim()).toBe('SIGWINCH');
    await docker('stop', '-t', '30', wp);
    const state = (await docker('inspect', '-f', '{{.State.ExitCode}} {{.State.OOMKilled}}', wp)).trim();
    expect(state).toBe('0 false');
    expect(await logs(wp)).toMatch(/caught SIGWINCH, shutting down gracefully/);
  }, 5 * MINUTE);
});
