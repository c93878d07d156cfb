import type { Command } from 'commander';
import { login, logout } from '../../compose/registry.js';
import { readStdin } from '../terminal.js';
import { UserError } from '../../util/errors.js';

/**
 * `tscompose login [SERVER]` and `logout [SERVER]`: credentials checked
 * against the registry, kept in Docker's ~/.docker/config.json (or the
 * credential helper it names), so docker and tscompose share them.
 */
export function register(program: Command): void {
  program.command('login')
    .description('Log in to a registry (Docker Hub when no server is given)')
    .argument('[server]', 'The registry, e.g. localhost:5000')
    .option('-u, --username <username>', 'Username')
    .option('-p, --password <password>', 'Password (prefer --password-stdin)')
    .option('--password-stdin', 'Take the password from stdin')
    .action(async (server: string | undefined, o: { username?: string; password?: string; passwordStdin?: boolean }) => {
      if (o.password !== undefined && o.passwordStdin) throw new UserError('--password and --password-stdin are mutually exclusive');
      if (o.password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      if (!o.username) throw new UserError('login needs a username', 1, 'Give -u USERNAME (and --password-stdin)');
      const password = o.password ?? (await readStdin());
      const { configPath } = await login(server, { username: o.username, password });
      process.stderr.write(`WARNING! Your password will be stored unencrypted in ${configPath}.\n`);
      process.stdout.write('Login Succeeded\n');
    });

  program.command('logout')
    .description('Log out from a registry (Docker Hub when no server is given)')
    .argument('[server]', 'The registry')
    .action(async (server: string | undefined) => {
      const { registry, removed } = await logout(server);
      process.stdout.write(removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
    });
}
