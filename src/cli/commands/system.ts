import type { Command } from 'commander';
import { registerService } from '../system/service.js';

/**
 * `tscompose system ...`: engine-wide commands, one module per subcommand
 * under src/cli/system/ (each registers itself on the group made here).
 */
export function register(program: Command): void {
  const system = program.command('system').description('Manage the native engine as a whole');
  registerService(system);
}
