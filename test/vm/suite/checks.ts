import type { Check } from './context.js';
import { setupChecks, finalChecks } from './engine.js';
import { limitChecks } from './limits.js';
import { isolationChecks } from './isolation.js';
import { deviceChecks } from './devices.js';
import { composeChecks } from './compose.js';

/** The engine suite, in the order it runs (the setup checks first, the leak check last). */
export const CHECKS: Check[] = [...setupChecks, ...limitChecks, ...isolationChecks, ...deviceChecks, ...composeChecks, ...finalChecks];
