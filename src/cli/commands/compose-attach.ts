import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { booleanValue, replicaIndex } from '../flags.js';
import { holdSignals, withStdio } from '../terminal.js';
import { attach } from '../../compose/attach-service.js';
import { exportService } from '../../compose/export.js';
import { UserError } from '../../util/errors.js';

/** attach: this terminal on a service container; export: its filesystem as a tar. */
interface AttachFlags { index: number; stdin?: boolean; sigProxy: boolean; detachKeys?: string }

export function register(program: Command): void {
  program
    .command('attach')
    .description("Attach local standard input, output, and error streams to a service's running container")
    .argument('<SERVICE>')
    .option('--index <n>', 'index of the container if service has multiple replicas', replicaIndex, 1)
    .option('--no-stdin', 'Do not attach STDIN')
    .option('--sig-proxy [bool]', 'Proxy all received signals to the process (--sig-proxy=false to keep them)', booleanValue, true)
    .option('--detach-keys <string>', 'Override the key sequence for detaching from a container (default "ctrl-p,ctrl-q")')
    .action(action(runAttach));

  program
    .command('export')
    .description("Export a service container's filesystem as a tar archive")
    .argument('<SERVICE>')
    .option('--index <n>', 'index of the container if service has multiple replicas', replicaIndex, 1)
    .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
    .action(
      action(async (ctx: CliContext, service: string, f: { index: number; output?: string }) => {
        if (!f.output && process.stdout.isTTY) throw new UserError('refusing to write the tar archive to a terminal', 1, 'give -o FILE or redirect the output');
        const { tar } = await exportService(await ctx.engine(), await ctx.projectOrName(), { service, index: f.index });
        await pipeline(tar, f.output ? createWriteStream(f.output) : process.stdout, { end: !!f.output });
      }),
    );
}

async function runAttach(ctx: CliContext, service: string, f: AttachFlags): Promise<number> {
  const engine = await ctx.engine();
  const project = await ctx.projectOrName();
  const stdin = f.stdin !== false;
  const tty = stdin && !!process.stdin.isTTY;
  // The signals this process gets are the container's (--sig-proxy) or end the attach (Node's default) — never both.
  const release = f.sigProxy ? holdSignals() : () => undefined;
  const handlers: Array<[NodeJS.Signals, () => void]> = [];
  try {
    const r = await withStdio({ tty, stdin }, (io) =>
      attach(engine, project, {
        service,
        index: f.index,
        io,
        ...(f.detachKeys !== undefined ? { detachKeys: f.detachKeys } : {}),
        onAttached: (c) => {
          if (!f.sigProxy) return;
          for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) {
            const h = () => void c.kill(sig).catch(() => undefined);
            process.on(sig, h);
            handlers.push([sig, h]);
          }
        },
      }),
    );
    return r.exitCode;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    release();
  }
}
