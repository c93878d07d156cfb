import { join } from 'node:path';
import { repoRoot } from './cache.js';

/**
 * Test data kept in the checkout (see the SOURCE.md beside each): the
 * conformance corpus of real compose files (docker/awesome-compose, CC0) and
 * the Compose Specification's JSON schema (Apache-2.0), an oracle for the
 * differential test only — src/ never reads either.
 */
export const CORPUS = join(repoRoot, 'test', 'corpus', 'awesome-compose');
export const REFERENCE_SCHEMA = join(repoRoot, 'test', 'reference', 'compose-spec', 'compose-spec.json');
