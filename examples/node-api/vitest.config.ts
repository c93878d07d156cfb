import { defineConfig } from 'vitest/config';

// A stack takes seconds to come up (images are in the engine's store already, or pulled once).
export default defineConfig({ test: { testTimeout: 120_000, hookTimeout: 120_000 } });
