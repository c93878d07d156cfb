import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { digestPath, generateDigestSource, generateValidatorSource, outputPath } from '../../schemas/generate-validator.mjs';
import { brief, loadErrors } from './helpers.js';

describe('schema validation messages', () => {
  it('suggests the nearest valid key for an unknown one, wherever it is', async () => {
    const errors = await loadErrors(
      [
        'servics: {}',
        'services:',
        '  web:',
        '    imgae: nginx',
        '    enviroment: {A: b}',
        '    healthcheck: {tets: [CMD, x]}',
        '    deploy: {resources: {limits: {memroy: 1g}}}',
        '    something_else: 1',
        'networks:',
        '  n: {dirver: bridge}',
      ].join('\n'),
    );
    expect(brief(errors)).toEqual([
      '1:1: unknown key `servics` in the top level; did you mean `services`?',
      '4:5: unknown key `imgae` in service "web"; did you mean `image`?',
      '5:5: unknown key `enviroment` in service "web"; did you mean `environment`?',
      '6:19: unknown key `tets` in healthcheck of service "web"; did you mean `test`?',
      '7:35: unknown key `memroy` in deploy.resources.limits of service "web"; did you mean `memory`?',
      '8:5: unknown key `something_else` in service "web" (custom keys must start with x-)',
      '10:7: unknown key `dirver` in network "n"; did you mean `driver`?',
    ]);
  });

  it('names what a value must be when no form fits, and the one failure when a form fits', async () => {
    const errors = await loadErrors(
      [
        'services:',
        '  web:',
        '    image: [nginx]',
        '    environment: 5',
        '    depends_on: {db: {condition: service_ready}}',
        '    env_file: [3]',
        '    ports: [{target: 80, published: [1]}]',
        '    cpu_count: -1',
        '    volumes: [{target: /x}]',
        '    pull_policy: sometimes',
        '    container_name: "my app"',
        '    security_opt: [a, b, a]',
        '  db: {image: d}',
      ].join('\n'),
    );
    expect(brief(errors)).toEqual([
      '3:12: services.web.image must be a string, not a list',
      '4:18: services.web.environment must be a mapping or a list of strings, not the number 5',
      '5:34: services.web.depends_on.db.condition must be one of service_started, service_healthy, service_completed_successfully, not the string "service_ready"',
      '6:16: services.web.env_file[0] must be a string or a mapping, not the number 3',
      '7:37: services.web.ports[0].published must be a string or an integer, not a list',
      '8:16: services.web.cpu_count must be >= 0, not -1',
      '9:15: services.web.volumes[0] is missing the required key `type`',
      '10:18: services.web.pull_policy must be always, never, missing, build, if_not_present, refresh, daily, weekly or every_<duration>, not "sometimes"',
      `11:21: services.web.container_name "my app" is not a valid container name: it must be at least 2 characters, start with a letter or digit and contain only letters, digits, '_', '.' and '-'`,
      '12:26: services.web.security_opt lists the same value twice (items 1 and 3); remove one',
    ]);
  });

  it('rejects invalid names of services and volumes', async () => {
    expect(brief(await loadErrors('services:\n  "my web": {image: x}\nvolumes:\n  "a/b": {}\n'))).toEqual([
      `2:3: services: invalid name "my web": use only letters, digits, '.', '_' and '-'`,
      `4:3: volumes: invalid name "a/b": use only letters, digits, '.', '_' and '-'`,
    ]);
  });

  it('the generated validator and its digest are those the schema makes now (npm run build writes them)', () => {
    const source = generateValidatorSource();
    const fresh = readFileSync(outputPath, 'utf8') === source;
    expect(fresh, 'src/project/schema-validator.gen.ts is stale: run `npm run build`').toBe(true);
    // The digest is the validator's identity in the cache of validated models: stale, a changed schema would accept old entries.
    expect(readFileSync(digestPath, 'utf8'), 'src/project/schema-digest.gen.ts is stale: run `npm run build`').toBe(generateDigestSource(source));
  });
});
