import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/util/errors.js';
import { ComposeError } from '../../src/project/diagnostics.js';
import { normalizeProjectName } from '../../src/project/discovery.js';
import { loadProject, type LoadOptions } from '../../src/project/load.js';
import { projectDir } from './helpers.js';
import { rejection } from '../support/rejection.js';

const svc = (image: string) => `services:\n  web:\n    image: ${image}\n`;

async function loadIn(cwd: string, opts: Partial<LoadOptions> = {}) {
  const warnings: string[] = [];
  const project = await loadProject({ cwd, environment: {}, onWarning: (m) => warnings.push(m), ...opts });
  return { project, warnings };
}

describe('file discovery', () => {
  it('finds compose.yaml and its override in the current directory', async () => {
    const dir = projectDir({ 'compose.yaml': svc('a'), 'compose.override.yaml': 'services:\n  web:\n    hostname: h\n' });
    const { project } = await loadIn(dir);
    expect(project.configFiles).toEqual([join(dir, 'compose.yaml'), join(dir, 'compose.override.yaml')]);
    expect(project.services.web).toMatchObject({ image: 'a', hostname: 'h' });
  });

  it('accepts every default name, prefers compose.yaml and warns when there are several', async () => {
    for (const name of ['compose.yml', 'docker-compose.yaml', 'docker-compose.yml']) {
      const dir = projectDir({ [name]: svc(name) });
      expect((await loadIn(dir)).project.services.web!.image).toBe(name);
    }
    const dir = projectDir({ 'compose.yaml': svc('first'), 'docker-compose.yml': svc('second') });
    const { project, warnings } = await loadIn(dir);
    expect(project.services.web!.image).toBe('first');
    expect(warnings[0]).toMatch(/Found multiple config files/);
  });

  it('walks up to the nearest parent with a compose file; the project directory is that parent', async () => {
    const dir = projectDir({ 'compose.yaml': svc('${X}'), '.env': 'X=from-project-dir\n' });
    const sub = join(dir, 'deep', 'er');
    mkdirSync(sub, { recursive: true });
    const { project } = await loadIn(sub);
    expect(project.workingDir).toBe(dir);
    expect(project.name).toBe('proj');
    expect(project.services.web!.image).toBe('from-project-dir');
  });

  it('-f (repeatable), COMPOSE_FILE and COMPOSE_PATH_SEPARATOR choose the files', async () => {
    const dir = projectDir({ 'a.yaml': svc('a'), 'b.yaml': 'services:\n  web:\n    hostname: b\n', 'compose.yaml': svc('default') });
    expect((await loadIn(dir, { configFiles: ['a.yaml', 'b.yaml'] })).project.services.web).toMatchObject({ image: 'a', hostname: 'b' });
    expect((await loadIn(dir, { environment: { COMPOSE_FILE: 'a.yaml:b.yaml' } })).project.services.web).toMatchObject({ hostname: 'b' });
    expect((await loadIn(dir, { environment: { COMPOSE_FILE: 'b.yaml;a.yaml', COMPOSE_PATH_SEPARATOR: ';' } })).project.services.web).toMatchObject({ image: 'a' });
  });

  it('COMPOSE_ENV_FILES (comma-separated) replaces .env when there is no --env-file; --env-file wins over it', async () => {
    const dir = projectDir({
      '.env': 'TAG=dotenv\n',
      'a.env': 'TAG=a\nOTHER=a\n',
      'b.env': 'TAG=b\n',
      'compose.yaml': 'services:\n  web:\n    image: x:${TAG}\n    hostname: h-${OTHER:-none}\n',
    });
    expect((await loadIn(dir)).project.services.web).toMatchObject({ image: 'x:dotenv', hostname: 'h-none' });
    const fromVar = (await loadIn(dir, { environment: { COMPOSE_ENV_FILES: 'a.env,b.env' } })).project;
    expect(fromVar.services.web).toMatchObject({ image: 'x:b', hostname: 'h-a' });
    expect((await loadIn(dir, { environment: { COMPOSE_ENV_FILES: 'a.env' }, envFiles: ['b.env'] })).project.services.web).toMatchObject({ image: 'x:b', hostname: 'h-none' });
    expect((await rejection(loadIn(dir, { environment: { COMPOSE_ENV_FILES: 'missing.env' } }))).message).toMatch(/env file .*missing\.env not found/);
  });

  it('COMPOSE_FILE, COMPOSE_PROJECT_NAME and COMPOSE_PROFILES may come from .env', async () => {
    const dir = projectDir({
      '.env': 'COMPOSE_FILE=other.yaml\nCOMPOSE_PROJECT_NAME=fromenv\nCOMPOSE_PROFILES=debug\n',
      'other.yaml': 'services:\n  web: {image: x}\n  dbg: {image: y, profiles: [debug]}\n',
    });
    const { project } = await loadIn(dir);
    expect(project.name).toBe('fromenv');
    expect(Object.keys(project.services).sort()).toEqual(['dbg', 'web']);
  });

  it('--project-directory moves relative paths and the .env lookup, not -f', async () => {
    const dir = projectDir({ 'compose.yaml': 'services:\n  web:\n    image: ${I}\n    build: ./ctx\n', 'other/.env': 'I=other\n' });
    const { project } = await loadIn(dir, { configFiles: ['compose.yaml'], projectDirectory: 'other' });
    expect(project.workingDir).toBe(join(dir, 'other'));
    expect(project.name).toBe('other');
    expect(project.services.web).toMatchObject({ image: 'other', build: { context: join(dir, 'other', 'ctx') } });
  });

  it('says clearly when there is no compose file, or a -f file is missing', async () => {
    const dir = projectDir({ 'readme.txt': '' });
    const none = await rejection(loadIn(dir));
    expect(none).toBeInstanceOf(UserError);
    expect(none.message).toMatch(/^no configuration file provided: no compose\.yaml, compose\.yml, docker-compose\.yaml, docker-compose\.yml in /);
    const missing = await rejection(loadIn(dir, { configFiles: ['nope.yaml'] }));
    expect(missing.message).toMatch(/compose file .*nope\.yaml does not exist/);
  });

  it('an empty compose file is an error at its first line', async () => {
    const dir = projectDir({ 'compose.yaml': '# nothing yet\n' });
    const err = await rejection(loadIn(dir));
    expect(err).toBeInstanceOf(ComposeError);
    expect((err as ComposeError).diagnostics).toMatchObject([{ line: 1, col: 1, message: 'the compose file is empty' }]);
  });
});

describe('project name', () => {
  it('precedence: -p, then COMPOSE_PROJECT_NAME, then name:, then the directory', async () => {
    const dir = projectDir({ 'compose.yaml': `name: from-file\n${svc('x')}` }, 'Dir');
    expect((await loadIn(dir, { projectName: 'cli', environment: { COMPOSE_PROJECT_NAME: 'env' } })).project.name).toBe('cli');
    expect((await loadIn(dir, { environment: { COMPOSE_PROJECT_NAME: 'env' } })).project.name).toBe('env');
    expect((await loadIn(dir)).project.name).toBe('from-file');
    const plain = projectDir({ 'compose.yaml': svc('x') }, '_My.App-2_');
    expect((await loadIn(plain)).project.name).toBe('myapp-2_');
  });

  it('name: is interpolated, and names the networks and volumes', async () => {
    const dir = projectDir({ 'compose.yaml': `name: app-\${STAGE}\n${svc('x')}` });
    const { project } = await loadIn(dir, { environment: { STAGE: 'prod' } });
    expect(project.name).toBe('app-prod');
    expect(project.networks.default!.name).toBe('app-prod_default');
  });

  it('explicit names must be valid; directory names are normalized', async () => {
    const dir = projectDir({ 'compose.yaml': svc('x') });
    expect((await rejection(loadIn(dir, { projectName: 'My App' }))).message).toBe(
      `invalid project name "My App" in the project name (-p): it must contain only lowercase letters, digits, '-' and '_', and start with a letter or digit`,
    );
    expect((await rejection(loadIn(dir, { environment: { COMPOSE_PROJECT_NAME: '-x' } }))).message).toMatch(/invalid project name "-x" in COMPOSE_PROJECT_NAME/);
    const named = projectDir({ 'compose.yaml': `name: Bad_Name\n${svc('x')}` });
    const err = (await rejection(loadIn(named))) as ComposeError;
    expect(err.diagnostics).toMatchObject([{ line: 1, col: 7, message: expect.stringMatching(/^invalid project name "Bad_Name" in `name`/) }]);
    const unnamable = projectDir({ 'compose.yaml': svc('x') }, '___');
    expect((await rejection(loadIn(unnamable))).message).toMatch(/cannot make a project name from the directory/);
  });

  it('normalizes like Compose: lowercase, only [a-z0-9_-], no leading _ or -', () => {
    expect(normalizeProjectName('My Project.v2')).toBe('myprojectv2');
    expect(normalizeProjectName('--_x')).toBe('x');
  });
});
