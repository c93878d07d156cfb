import { randomBytes, randomInt } from 'node:crypto';
import { UserError } from '../../../util/errors.js';

/** Container ids: 64 hex characters, like Docker's. */
export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

/** Docker's rule for container and volume names. */
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function checkName(name: string, kind = 'container'): string {
  const n = name.startsWith('/') ? name.slice(1) : name;
  if (!NAME_RE.test(n)) {
    throw new UserError(`Invalid ${kind} name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, 1,
      `Choose a name of at least two characters made of letters, digits, '_', '.' and '-'`);
  }
  return n;
}

const ADJECTIVES = [
  'agile', 'amazing', 'bold', 'brave', 'bright', 'busy', 'calm', 'clever', 'cool', 'crisp', 'daring', 'eager',
  'elated', 'epic', 'fervent', 'festive', 'focused', 'friendly', 'gallant', 'gentle', 'happy', 'hardy', 'jolly',
  'keen', 'kind', 'lucid', 'lively', 'loyal', 'merry', 'modest', 'nifty', 'noble', 'patient', 'peaceful', 'proud',
  'quick', 'quiet', 'relaxed', 'serene', 'sharp', 'shiny', 'steady', 'sunny', 'swift', 'tender', 'tidy', 'upbeat',
  'vibrant', 'vivid', 'warm', 'wise', 'witty', 'zealous',
];

/** Scientists and engineers, as Docker's generator names containers after them. */
const SURNAMES = [
  'agnesi', 'babbage', 'bardeen', 'bohr', 'boole', 'cerf', 'curie', 'darwin', 'dijkstra', 'einstein', 'euler',
  'faraday', 'fermat', 'feynman', 'franklin', 'galileo', 'gauss', 'goldberg', 'hamilton', 'hopper', 'hypatia',
  'johnson', 'kepler', 'knuth', 'lamarr', 'lovelace', 'maxwell', 'meitner', 'mendel', 'newton', 'noether',
  'pascal', 'pasteur', 'planck', 'ritchie', 'shannon', 'thompson', 'torvalds', 'turing', 'volta', 'wozniak',
  'yalow', 'zuse',
];

export function generatedName(attempt = 0): string {
  const base = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
  return attempt > 5 ? `${base}${randomInt(10)}` : base;
}
