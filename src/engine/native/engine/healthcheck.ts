import { UserError } from '../../../util/errors.js';
import type { HealthcheckConfig } from '../../types.js';
import type { OciHealthConfig } from '../image/index.js';
import type { ResolvedHealthcheck } from './records.js';

/**
 * The healthcheck a container runs: the request's over the image's, field by
 * field (Docker's merge: an empty test or a zero duration takes the image's),
 * with Docker's defaults. ["NONE"] on either side that wins means none.
 */
export const HEALTH_DEFAULTS = { interval: 30_000, timeout: 30_000, retries: 3, startPeriod: 0, startInterval: 5_000 } as const;

const NS_PER_MS = 1_000_000;

export function resolveHealthcheck(spec: HealthcheckConfig | undefined, image: OciHealthConfig | undefined, container: string): ResolvedHealthcheck | undefined {
  const fromImage = image && {
    test: image.Test ?? [],
    interval: image.Interval ? image.Interval / NS_PER_MS : undefined,
    timeout: image.Timeout ? image.Timeout / NS_PER_MS : undefined,
    retries: image.Retries || undefined,
    startPeriod: image.StartPeriod ? image.StartPeriod / NS_PER_MS : undefined,
    startInterval: image.StartInterval ? image.StartInterval / NS_PER_MS : undefined,
  };
  const test = spec?.test?.length ? spec.test : (fromImage?.test ?? []);
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  const pick = (k: 'interval' | 'timeout' | 'retries' | 'startPeriod' | 'startInterval') => {
    const v = spec?.[k] || fromImage?.[k] || HEALTH_DEFAULTS[k];
    if (!Number.isFinite(v) || v < 0) throw new UserError(`container ${container}: invalid healthcheck ${k} ${v}`, 1, 'give a positive duration');
    return v;
  };
  if (test[0] !== 'CMD' && test[0] !== 'CMD-SHELL') {
    throw new UserError(`container ${container}: healthcheck test must start with CMD, CMD-SHELL or NONE (got ${JSON.stringify(test[0])})`, 1,
      'write test: ["CMD", "prog", "arg"] or test: ["CMD-SHELL", "command line"]');
  }
  if (test.length < 2 || (test[0] === 'CMD-SHELL' && test.length !== 2)) {
    throw new UserError(`container ${container}: healthcheck test ${JSON.stringify(test)} has no command`, 1, 'give the command after CMD or CMD-SHELL');
  }
  return {
    test: [...test],
    interval: pick('interval'),
    timeout: pick('timeout'),
    retries: pick('retries'),
    startPeriod: pick('startPeriod'),
    startInterval: pick('startInterval'),
  };
}

/** The argv a probe runs: CMD's as given, CMD-SHELL's through /bin/sh -c (Docker's Linux shell). */
export function probeArgv(h: ResolvedHealthcheck): string[] {
  return h.test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', h.test[1]!] : h.test.slice(1);
}
