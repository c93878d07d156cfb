import { describe, expect, it } from 'vitest';
import { brief, load, loadErrors } from './helpers.js';

describe('extends', () => {
  it('starts from the extended service of the same file and merges the service over it', async () => {
    const { project } = await load(
      [
        'services:',
        '  base:',
        '    image: app',
        '    environment: {A: "1", B: "2"}',
        '    ports: ["80"]',
        '    command: [serve]',
        '  web:',
        '    extends: base',
        '    environment: {B: "override"}',
        '    ports: ["81"]',
        '    command: [other]',
      ].join('\n'),
    );
    const web = project.services.web!;
    expect(web.image).toBe('app');
    expect(web.environment).toEqual({ A: '1', B: 'override' });
    expect(web.ports.map((p) => p.target)).toEqual([80, 81]);
    expect(web.command).toEqual(['other']);
    expect(web).not.toHaveProperty('extends');
  });

  it('follows chains and !reset removes inherited attributes', async () => {
    const { project } = await load(
      [
        'services:',
        '  a: {image: a, user: root, ports: ["1"]}',
        '  b: {extends: {service: a}, hostname: b}',
        '  c:',
        '    extends: b',
        '    user: !reset null',
        '    ports: !reset []',
      ].join('\n'),
    );
    expect(project.services.c).toMatchObject({ image: 'a', hostname: 'b', ports: [] });
    expect(project.services.c!.user).toBeUndefined();
  });

  it('extends a service of another file, whose relative paths stay relative to that file', async () => {
    const { project, dir } = await load('services:\n  web:\n    extends: {file: common/base.yaml, service: app}\n    image: mine\n', {
      files: {
        'common/base.yaml': 'services:\n  app:\n    build: ./src\n    env_file: app.env\n    volumes: [./data:/data]\n    image: base\n',
        'common/app.env': 'FROM_FILE=yes\n',
      },
    });
    const web = project.services.web!;
    expect(web.image).toBe('mine');
    expect(web.build?.context).toBe(`${dir}/common/src`);
    expect(web.volumes[0]).toMatchObject({ type: 'bind', source: `${dir}/common/data`, target: '/data' });
    expect(web.environment).toEqual({ FROM_FILE: 'yes' });
  });

  it('reports a missing base, a missing file and a cycle at the extends', async () => {
    expect(brief(await loadErrors('services:\n  web:\n    extends: nope\n    image: x\n  other: {image: y}\n'))).toEqual([
      '3:14: service "web" extends "nope", which is not defined (services: other)',
    ]);
    expect(brief(await loadErrors('services:\n  web:\n    extends: {file: missing.yaml, service: x}\n'))).toEqual([
      expect.stringMatching(/^3:21: extends\.file .*missing\.yaml does not exist$/),
    ]);
    expect(brief(await loadErrors('services:\n  a: {extends: b, image: x}\n  b: {extends: c}\n  c:\n    extends: a\n'))).toEqual([
      expect.stringMatching(/extends cycle: a -> b -> c -> a$/),
    ]);
  });
});

describe('include', () => {
  it('brings in the resources of another project, loaded with its own directory and .env', async () => {
    const { project, dir } = await load('include:\n  - sub/compose.yaml\nservices:\n  web:\n    image: web\n    depends_on: [db]\n', {
      files: {
        'sub/compose.yaml': 'services:\n  db:\n    image: db:${DB_TAG}\n    volumes: [./init:/init, data:/var/lib/db]\nvolumes:\n  data: {}\n',
        'sub/.env': 'DB_TAG=16\n',
      },
    });
    expect(project.services.db).toMatchObject({ image: 'db:16' });
    expect(project.services.db!.volumes[0]).toMatchObject({ source: `${dir}/sub/init` });
    expect(project.volumes.data).toEqual({ name: 'proj_data', driver_opts: {}, external: false, labels: {} });
  });

  it('the including project environment wins over the included .env; env_file and project_directory are honoured', async () => {
    const { project, dir } = await load(
      'include:\n  - path: [lib/a.yaml, lib/a.override.yaml]\n    env_file: lib/custom.env\n    project_directory: lib/root\n',
      {
        files: {
          'lib/a.yaml': 'services:\n  a:\n    image: ${IMG}\n    build: ./ctx\n',
          'lib/a.override.yaml': 'services:\n  a:\n    hostname: ${HOST}\n',
          'lib/custom.env': 'IMG=from-include\nHOST=from-include\n',
        },
        environment: { HOST: 'from-shell' },
      },
    );
    expect(project.services.a).toMatchObject({ image: 'from-include', hostname: 'from-shell' });
    expect(project.services.a!.build?.context).toBe(`${dir}/lib/root/ctx`);
  });

  it('a local definition is merged over the included one', async () => {
    const { project } = await load('include: [inc.yaml]\nservices:\n  db:\n    environment: {LOCAL: "1"}\n', {
      files: { 'inc.yaml': 'services:\n  db:\n    image: postgres\n    environment: {INC: "1"}\n' },
    });
    expect(project.services.db).toMatchObject({ image: 'postgres', environment: { INC: '1', LOCAL: '1' } });
  });

  it('reports a missing file and an include cycle', async () => {
    expect(brief(await loadErrors('include: [nope.yaml]\nservices: {a: {image: x}}\n'))).toEqual([
      expect.stringMatching(/^1:11: included file nope\.yaml does not exist/),
    ]);
    const errors = await loadErrors('include: [a.yaml]\nservices: {x: {image: x}}\n', {
      files: { 'a.yaml': 'include: [b.yaml]\nservices: {a: {image: a}}\n', 'b.yaml': 'include: [a.yaml]\nservices: {b: {image: b}}\n' },
    });
    expect(errors[0]!.message).toMatch(/^include cycle: .*a\.yaml -> .*b\.yaml -> .*a\.yaml$/);
    expect(errors[0]!.file).toMatch(/b\.yaml$/);
  });
});
