import { describe, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { cleanDockerd, dockerdTarget } from './support.js';
import { LABEL_KEY, nodeClientSuite } from './node-clients.js';

/** dockerode and testcontainers against dockerd: the reference for node-clients-native.test.ts, in the same run. */

let dockerd: Awaited<ReturnType<typeof dockerdTarget>>;
const label = randomBytes(4).toString('hex');

beforeAll(async () => {
  dockerd = await dockerdTarget();
  Object.assign(process.env, { DOCKER_HOST: dockerd.target.host, TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1', TESTCONTAINERS_RYUK_DISABLED: 'true' });
}, 120_000);

afterAll(async () => {
  if (!dockerd) return;
  // Whatever a failed test left: its containers by label (testcontainers' networks go in the test's finally).
  await cleanDockerd(dockerd.target, `${LABEL_KEY}=${label}`, `tsc-api-node-${label}`);
  dockerd.dispose();
}, 120_000);

describe('Node clients against dockerd', () => {
  nodeClientSuite(() => ({ target: dockerd.target, label }));
});
