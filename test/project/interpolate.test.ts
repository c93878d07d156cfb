import { describe, expect, it } from 'vitest';
import { brief, load, loadErrors } from './helpers.js';

describe('interpolation in compose files', () => {
  it('interpolates every string value, never keys, before validation', async () => {
    const { project } = await load(
      [
        'services:',
        '  web:',
        '    image: "nginx:${TAG:-1.25}"',
        '    environment:',
        '      ${NOT_A_KEY}: x',
        '      URL: http://$HOST:${PORT}/',
        '    labels: ["a=${TAG-none}"]',
      ].join('\n'),
      { environment: { HOST: 'db', PORT: '5432' } },
    );
    const web = project.services.web!;
    expect(web.image).toBe('nginx:1.25');
    expect(web.environment).toEqual({ '${NOT_A_KEY}': 'x', URL: 'http://db:5432/' });
    expect(web.labels).toEqual({ a: 'none' });
  });

  it('casts interpolated strings where the schema wants a number or a boolean', async () => {
    const { project } = await load(
      [
        'services:',
        '  web:',
        '    image: x',
        '    privileged: ${PRIV}',
        '    read_only: "true"',
        '    scale: ${N}',
        '    cpus: ${CPUS}',
        '    ports: [{target: "${PORT}", published: "${PORT}"}]',
        '    healthcheck: {test: "true", retries: "${R}"}',
        '    ulimits: {nofile: "${NOFILE}"}',
        'networks:',
        '  ext: {external: "${EXT}"}',
      ].join('\n'),
      { environment: { PRIV: 'true', N: '3', CPUS: '0.5', PORT: '8080', R: '4', NOFILE: '1024', EXT: 'false' } },
    );
    const web = project.services.web!;
    expect(web.privileged).toBe(true);
    expect(web.read_only).toBe(true);
    expect(web.scale).toBe(3);
    expect(web.cpus).toBe(0.5);
    expect(web.ports).toEqual([{ mode: 'ingress', target: 8080, published: '8080', protocol: 'tcp' }]);
    expect(web.healthcheck?.retries).toBe(4);
    expect(web.ulimits.nofile).toEqual({ soft: 1024, hard: 1024 });
  });

  it('reports a cast that fails at the value', async () => {
    const errors = await loadErrors('services:\n  web:\n    image: x\n    privileged: ${P}\n', { environment: { P: 'maybe' } });
    expect(brief(errors)).toEqual(['4:17: services.web.privileged: "maybe" is not a boolean; write true or false']);
  });

  it('points ${VAR:?msg} errors at the $ inside the string, and reports them all', async () => {
    const errors = await loadErrors(
      ['services:', '  web:', '    image: "repo/${IMAGE:?set IMAGE}"', '    environment:', '      A: prefix-${NEEDED?}', '    command: ${}'].join('\n'),
    );
    expect(brief(errors)).toEqual([
      '3:18: required variable IMAGE is not set: set IMAGE',
      '5:17: required variable NEEDED is not set',
      '6:14: invalid interpolation "${}": a variable name starts with a letter or _ (write $$ for a literal $)',
    ]);
  });

  it('warns once per unset variable and uses ""', async () => {
    const { project, warnings } = await load('services:\n  web:\n    image: "x${A}${A}"\n    hostname: h${A}\n');
    expect(project.services.web!.image).toBe('x');
    expect(warnings).toEqual([expect.stringMatching(/compose\.yaml:3:14: The "A" variable is not set\. Defaulting to a blank string\.$/)]);
  });

  it('reads .env from the project directory; the process environment wins; values refer to earlier ones', async () => {
    const { project } = await load('services:\n  web:\n    image: ${REPO}/${NAME}:${TAG}\n', {
      files: { '.env': 'REPO=registry.local\nNAME=app\nTAG=${NAME}-1\n' },
      environment: { NAME: 'shell' },
    });
    expect(project.services.web!.image).toBe('registry.local/shell:shell-1');
  });

  it('--env-file replaces .env, and several are read in order', async () => {
    const { project } = await load('services:\n  web:\n    image: ${A}-${B}\n', {
      files: { '.env': 'A=dotenv\nB=dotenv\n', 'one.env': 'A=one\nB=one\n', 'two.env': 'B=two-${A}\n' },
      envFiles: ['one.env', 'two.env'],
    });
    expect(project.services.web!.image).toBe('one-two-one');
  });

  it('$$ survives as a literal $', async () => {
    const { project } = await load('services:\n  web:\n    image: x\n    command: echo $$HOME $${X}\n');
    expect(project.services.web!.command).toEqual(['echo', '$HOME', '${X}']);
  });

  it('exposes COMPOSE_PROJECT_NAME to interpolation', async () => {
    const { project } = await load('services:\n  web:\n    image: x\n    hostname: ${COMPOSE_PROJECT_NAME}-web\n');
    expect(project.services.web!.hostname).toBe('proj-web');
  });
});
