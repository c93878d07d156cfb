import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComposeError } from '../../src/project/diagnostics.js';
import { loadProject } from '../../src/project/load.js';
import { repoRoot } from '../support/cache.js';

/**
 * Broken compose files (test/project/fixtures/broken/): each must be rejected
 * with exactly these diagnostics: the file, line and column where the
 * mistake is, and what the message says about it. A fixture that is a
 * directory is loaded as a project (its compose.yaml plus what it names).
 */

const DIR = join(repoRoot, 'test/project/fixtures/broken');

/** fixture -> [file (when not the fixture itself), line, col, message fragment][] */
const EXPECTED: Record<string, [string | null, number, number, string][]> = {
  '01-yaml-unclosed-flow.yaml': [[null, 6, 1, 'YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]']],
  '02-yaml-tab-indent.yaml': [[null, 4, 1, 'YAML syntax error: Tabs are not allowed as indentation']],
  '03-yaml-duplicate-key.yaml': [[null, 5, 5, 'YAML syntax error: Map keys must be unique']],
  '04-yaml-unclosed-quote.yaml': [[null, 6, 1, 'YAML syntax error: Missing closing "quote']],
  '05-yaml-bad-indentation.yaml': [[null, 4, 12, 'YAML syntax error: Nested mappings are not allowed in compact mappings']],
  '06-top-level-list.yaml': [[null, 2, 1, 'the top level of a compose file must be a mapping']],
  '07-unknown-service-key.yaml': [[null, 5, 5, 'unknown key `enviroment` in service "web"; did you mean `environment`?']],
  '08-unknown-top-level-key.yaml': [[null, 5, 1, 'unknown key `volume` in the top level; did you mean `volumes`?']],
  '09-unknown-nested-key.yaml': [[null, 7, 7, 'unknown key `intervl` in healthcheck of service "web"; did you mean `interval`?']],
  '10-wrong-type-image.yaml': [[null, 5, 7, 'services.web.image must be a string, not a mapping']],
  '11-wrong-type-ports.yaml': [[null, 6, 7, 'services.web.ports must be a list, not a mapping']],
  '12-wrong-type-environment.yaml': [[null, 6, 13, 'services.web.environment.LIST must be a string, a number, a boolean or null, not a list']],
  '13-wrong-type-services.yaml': [[null, 3, 3, 'services must be a mapping, not a list']],
  '14-wrong-type-depends-condition.yaml': [[null, 7, 20, 'condition must be one of service_started, service_healthy, service_completed_successfully, not the string "service_ready"']],
  '15-missing-required-condition.yaml': [[null, 6, 7, 'services.web.depends_on.db is missing the required key `condition`']],
  '16-missing-volume-type.yaml': [[null, 6, 9, 'services.web.volumes[0] is missing the required key `type`']],
  '17-invalid-service-name.yaml': [[null, 3, 3, 'services: invalid name "my web"']],
  '18-boolean-not-boolean.yaml': [[null, 5, 17, 'services.web.privileged: "sometimes" is not a boolean']],
  '19-undefined-network.yaml': [[null, 6, 9, 'service "web" refers to undefined network "frontend" (declared: front)']],
  '20-undefined-volume.yaml': [[null, 6, 9, 'service "db" refers to undefined volume "pgdata"']],
  '21-undefined-config.yaml': [[null, 6, 9, 'service "web" refers to undefined config "nginx_conf"']],
  '22-undefined-secret.yaml': [[null, 6, 9, 'service "db" refers to undefined secret "db_password" (declared: db_pass)']],
  '23-undefined-service-dependency.yaml': [[null, 6, 9, 'service "web" depends on undefined service "database"']],
  '24-depends-on-cycle.yaml': [[null, 5, 18, 'dependency cycle: a -> b -> c -> a']],
  '25-self-dependency.yaml': [[null, 6, 7, 'service "web" depends on itself']],
  '26-port-out-of-range.yaml': [[null, 6, 9, 'host port 70000 is out of range (0-65535)']],
  '27-port-range-mismatch.yaml': [[null, 6, 9, 'the host range 8000-8002 and the container range 9000-9005 have different sizes']],
  '28-port-bad-protocol.yaml': [[null, 6, 9, 'unknown protocol "icmp" (use tcp, udp or sctp)']],
  '29-port-bad-host-ip.yaml': [[null, 6, 9, '"localhost" is not an IP address']],
  '30-bad-ipv4-address.yaml': [[null, 7, 23, 'ipv4_address: "10.0.0.300" is not an IPv4 address']],
  '31-duplicate-container-name.yaml': [[null, 8, 21, 'container_name "app" is already used by service "web"']],
  '32-no-image-no-build.yaml': [[null, 3, 3, 'service "worker" has neither an image nor a build context']],
  '33-invalid-project-name.yaml': [[null, 2, 7, 'invalid project name "My_Project" in `name`']],
  '34-required-variable.yaml': [[null, 6, 26, 'required variable DB_PASSWORD is not set: set DB_PASSWORD in .env']],
  '35-invalid-interpolation.yaml': [[null, 4, 19, 'invalid interpolation "${}"']],
  '36-bad-duration.yaml': [[null, 7, 17, '"30" is not a duration']],
  '37-bad-size.yaml': [[null, 5, 15, '"2 gigabytes" is not a size']],
  '38-bad-restart-policy.yaml': [[null, 5, 14, 'restart must be no, always, on-failure[:max-retries] or unless-stopped, not "sometimes"']],
  '39-bad-healthcheck-test.yaml': [[null, 6, 14, 'healthcheck.test must start with "CMD", "CMD-SHELL" or "NONE"']],
  '40-relative-mount-target.yaml': [[null, 6, 9, 'the mount point usr/share/nginx/html must be an absolute path in the container']],
  '41-network-mode-and-networks.yaml': [[null, 5, 5, 'service "web" sets both network_mode and networks']],
  '42-external-with-driver.yaml': [[null, 9, 5, 'network "shared" is external (created outside this project), so `driver` cannot be set']],
  '43-many-errors.yaml': [
    [null, 4, 12, 'services.web.image must be a string, not the number 42'],
    [null, 6, 5, 'unknown key `enviroment` in service "web"; did you mean `environment`?'],
    [null, 10, 14, 'services.db.expose[0] must be a string or a number, not a mapping'],
  ],
  '44-scale-and-container-name.yaml': [[null, 5, 5, 'service "worker" has container_name and 3 replicas']],
  '45-undefined-link.yaml': [[null, 6, 9, 'service "web" links to undefined service "cache"']],
  '46-env-file-missing': [['compose.yaml', 6, 9, 'web.env not found (set `required: false` to make it optional)']],
  '47-extends-missing-service': [['compose.yaml', 6, 16, 'service "web" extends "webapp", which is not defined in base.yaml (services in base.yaml: app)']],
  '48-include-cycle': [['b.yaml', 2, 5, 'include cycle: ']],
  '49-override-type-conflict': [['compose.override.yaml', 4, 7, 'services.web.configs: cannot merge a mapping into a list defined at line 6 of ']],
  '50-extends-cycle': [['compose.yaml', 4, 5, 'extends cycle: web -> api -> web']],
};

const fixtures = readdirSync(DIR).sort();

function loadOptions(fixture: string) {
  const path = join(DIR, fixture);
  const isDir = statSync(path).isDirectory();
  return { path, isDir, cwd: isDir ? path : DIR, configFiles: isDir ? undefined : [path] };
}

describe('broken compose files', () => {
  it('there are at least 40 of them, each with its expectations', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(40);
    expect(Object.keys(EXPECTED).sort()).toEqual(fixtures);
  });

  it.each(fixtures)('%s is rejected at the right place', async (fixture) => {
    const { path, isDir, cwd, configFiles } = loadOptions(fixture);
    let error: unknown;
    try {
      await loadProject({ cwd, configFiles, environment: {}, onWarning: () => {}, projectName: fixture.includes('project-name') ? undefined : 'broken' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ComposeError);
    const got = (error as ComposeError).diagnostics.map((d) => ({ file: d.file, line: d.line, col: d.col, message: d.message }));
    const want = EXPECTED[fixture]!.map(([file, line, col, fragment]) => ({
      file: file ? join(path, file) : isDir ? join(path, 'compose.yaml') : path,
      line,
      col,
      message: expect.stringContaining(fragment),
    }));
    expect(got).toEqual(want);
  });
});

describe('tscompose config on broken files (the CLI as a user runs it)', () => {
  const cli = join(repoRoot, 'bin', 'tscompose');
  let roots: string;
  const sample = fixtures.filter((_, i) => i % 3 === 0);

  beforeAll(() => {
    roots = mkdtempSync(join(tmpdir(), 'tsc-broken-'));
  });
  afterAll(() => rmSync(roots, { recursive: true, force: true }));

  it.each(sample)('%s: exits non-zero, prints file:line:col, creates nothing', (fixture) => {
    const { path, isDir, cwd } = loadOptions(fixture);
    const before = readdirSync(isDir ? path : DIR).sort();
    const args = isDir ? ['config'] : ['-f', fixture, 'config'];
    if (!fixture.includes('project-name')) args.unshift('-p', 'broken');
    const r = spawnSync(process.execPath, [cli, ...args], {
      cwd,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, TSCOMPOSE_ROOT: join(roots, 'state'), TSCOMPOSE_RUN: join(roots, 'run') },
    });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toBe('');
    const [file, line, col, fragment] = EXPECTED[fixture]![0]!;
    const shown = isDir ? file ?? 'compose.yaml' : fixture;
    const first = r.stderr.split('\n')[0]!;
    expect(first.startsWith(`${shown}:${line}:${col}: `), first).toBe(true);
    expect(first).toContain(fragment);
    expect(r.stderr.trim().split('\n')).toHaveLength(EXPECTED[fixture]!.length);
    expect(readdirSync(isDir ? path : DIR).sort()).toEqual(before);
    expect(readdirSync(roots)).toEqual([]);
  });
});
