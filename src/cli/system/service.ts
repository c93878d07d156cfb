import type { Command } from 'commander';
import { UserError } from '../../util/errors.js';
import { startService } from '../../api/index.js';

/**
 * `system service`: the Docker Engine API on a Unix socket, in the
 * foreground, for docker, docker-compose, dockerode, testcontainers and
 * IDEs. Started by systemd's socket activation (LISTEN_FDS), it serves the
 * socket it is given and leaves when idle, so that it runs only on demand.
 */
export function registerService(system: Command): void {
  system
    .command('service')
    .description('Serve the Docker Engine API from the native engine (docker, docker-compose and Docker SDKs drive it)')
    .option('-H, --host <unix:///PATH>', 'Socket to listen on (default: unix:///run/tscompose/docker.sock, or the one systemd passes)')
    .option('--group <group>', 'Let this group use the socket too (mode 0660); root only (0600) by default')
    .option('-t, --time <seconds>', 'Exit after this many seconds without a client (0: never; default 0, or 10 when socket-activated)')
    .option('--debug', 'Log every request to stderr')
    .addHelpText('after', `
Clients reach it as they reach dockerd:
  DOCKER_HOST=unix:///run/tscompose/docker.sock docker ps
  docker -H unix:///run/tscompose/docker.sock run --rm busybox echo hi
Containers it starts are the native engine's: \`tscompose container ls\` lists them, and the
API lists what the CLI started. API versions 1.24 to 1.41 (clients negotiate down to 1.41).`)
    .action(async (o: { host?: string; group?: string; time?: string; debug?: boolean }) => {
      if (process.getuid?.() !== 0) throw new UserError('tscompose system service needs root: it runs the native engine', 1, 'run it as root (sudo)');
      const activated = process.env.LISTEN_PID === String(process.pid) && Number(process.env.LISTEN_FDS) >= 1;
      if (activated && o.host) throw new UserError('--host cannot be given with a socket passed by systemd (LISTEN_FDS)', 1, 'drop --host, or start the service without socket activation');
      const idle = o.time !== undefined ? Number(o.time) : activated ? 10 : 0;
      if (!Number.isFinite(idle) || idle < 0) throw new UserError(`invalid --time ${o.time}`, 1, 'give a number of seconds, 0 for never');
      const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      const svc = await startService({
        ...(o.host ? { host: o.host } : {}),
        ...(o.group ? { group: o.group } : {}),
        ...(activated ? { listenFd: 3 } : {}),
        idleSeconds: idle,
        ...(o.debug ? { debug: true } : {}),
        log,
      });
      log(`serving the Docker Engine API on ${svc.address}`);
      const onSignal = () => void svc.stop();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      await svc.stopped;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      log('stopped');
    });
}
