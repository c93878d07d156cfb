import { describe, expect, it } from 'vitest';
import { checkPortConflicts } from '../../src/planner/port-conflicts.js';
import { load } from '../project/helpers.js';

/**
 * Two services publishing one host port load (compose-go prints such a file
 * with `config`); `up` refuses them before creating anything.
 */
describe('published port conflicts', () => {
  const file = 'services:\n  a: { image: x, ports: ["8080:80", "127.0.0.1:9000:90"] }\n  b: { image: x, ports: ["8080:81", "127.0.0.2:9000:90", "9000:91/udp"] }\n  c: { image: x, ports: ["127.0.0.1:7000:70", "7000-7001:71"] }\n  d: { image: x, ports: ["0.0.0.0:7000:70"] }\n';

  it('load, and print with config', async () => {
    const { project } = await load(file);
    expect(project.services.b!.ports.map((p) => p.published)).toEqual(['8080', '9000', '9000']);
  });

  it('are refused by up with a sentence naming both services, the port and the address', async () => {
    const { project } = await load(file);
    expect(() => checkPortConflicts(project, ['a', 'b', 'c', 'd'])).toThrow(
      'services a and b both publish port 8080/tcp on all addresses\nservices c and d both publish port 7000/tcp on 127.0.0.1',
    );
  });

  it('count only the services up starts; other addresses, protocols and ranges do not clash', async () => {
    const { project } = await load(file);
    expect(() => checkPortConflicts(project, ['a', 'c'])).not.toThrow();
    expect(() => checkPortConflicts(project, ['b', 'c'])).not.toThrow();
  });
});
