import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../../src/project/load.js';

/**
 * Names that would become file names too long for the kernel fail when the
 * file is loaded (`config`), naming the object and the limit: a 300-character
 * container_name failed at `up` with a raw ENAMETOOLONG, a 300-character
 * project name passed `config`.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function load(yaml: string, projectName?: string): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-names-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  return loadProject({ cwd: dir, environment: {}, onWarning: () => {}, projectName: projectName ?? 'p' });
}

describe('name lengths', () => {
  const long = 'a'.repeat(300);

  it('refuses a container_name over 255 characters, at its line', async () => {
    await expect(load(`services:\n  web:\n    image: busybox\n    container_name: ${long}\n`)).rejects.toThrow(
      /compose\.yaml:4:21: container_name of service "web" is 300 characters long; a container name may have at most 255/,
    );
    await expect(load(`services:\n  web:\n    image: busybox\n    container_name: ${'a'.repeat(255)}\n`)).resolves.toBeDefined();
  });

  it('refuses a project name over 128 characters from -p, COMPOSE_PROJECT_NAME or name:', async () => {
    await expect(load('services:\n  web:\n    image: busybox\n', long)).rejects.toThrow(
      'the project name "aaaaaaaaaaaaaaaaaaaa…" in the project name (-p) is 300 characters long; a project name may have at most 128',
    );
    const dir = mkdtempSync(join(tmpdir(), 'tsc-names-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'compose.yaml'), `name: ${long}\nservices:\n  web:\n    image: busybox\n`);
    await expect(loadProject({ cwd: dir, environment: {}, onWarning: () => {} })).rejects.toThrow(/compose\.yaml:1:7: the project name .* in `name` is 300 characters long; a project name may have at most 128/);
  });

  it('refuses a service whose containers would be named past 255 characters', async () => {
    await expect(load(`services:\n  ${'s'.repeat(200)}:\n    image: busybox\n`, 'p'.repeat(100))).rejects.toThrow(
      /compose\.yaml:2:3: service "s+" would make containers named "p+-s+-N" \(303 characters\); a container name may have at most 255: shorten the service name or the project name/,
    );
  });
});
