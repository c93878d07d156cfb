import { describe, beforeAll, afterAll, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { startService, type Service } from './support.js';
import { nodeClientSuite } from './node-clients.js';

/** dockerode and testcontainers against `tscompose system service` (the same scenario runs against dockerd in node-clients-dockerd.test.ts). */

let service: Service;
const label = randomBytes(4).toString('hex');

beforeAll(async () => {
  service = await startService();
  Object.assign(process.env, { DOCKER_HOST: service.target.host, TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1', TESTCONTAINERS_RYUK_DISABLED: 'true' });
}, 120_000);

afterAll(async () => {
  const left = service ? await service.stop() : [];
  expect(left, 'left on the host by the server').toEqual([]);
}, 120_000);

describe('Node clients against tscompose system service', () => {
  nodeClientSuite(() => ({ target: service.target, label }));
});
