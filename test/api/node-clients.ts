import { describe, it, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { GenericContainer, Network, Wait, type StartedTestContainer, type StartedNetwork } from 'testcontainers';
import { IMAGE, eventually, type ApiTarget } from './support.js';

/**
 * Two Node clients nobody here wrote, unmodified, against one API target:
 * dockerode (the Docker SDK for Node) and testcontainers (GenericContainer
 * with a published port and a log wait strategy; a network of two
 * containers that find each other by name). The same scenario runs against
 * `tscompose system service` (node-clients-native.test.ts) and dockerd
 * (node-clients-dockerd.test.ts): testcontainers keeps one Docker client
 * per process, chosen from DOCKER_HOST the first time, so each target gets
 * its own test file (vitest runs each in its own process).
 *
 * testcontainers is run as users in a container would run it against a
 * published port on this machine: TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
 * (otherwise, in a container, it connects to the bridge's gateway: a host
 * address the test did not make) and TESTCONTAINERS_RYUK_DISABLED (its
 * reaper is an image from Docker Hub, unreachable here; the test removes
 * what it made). Since testcontainers silently falls back to
 * /var/run/docker.sock when its first probe of DOCKER_HOST fails, every
 * container it starts is looked up on the target by id.
 */

export const LABEL_KEY = 'tsc-api-node';

export function nodeClientSuite(get: () => { target: ApiTarget; label: string }): void {
  describe('dockerode', () => {
    it('create with a port binding and a label, start, logs, the port answers, exec, inspect, stop, wait, remove', async () => {
      const { target, label } = get();
      const docker = new Docker({ socketPath: target.socket });
      const c = await docker.createContainer({
        Image: IMAGE,
        name: `tsc-api-dockerode-${randomBytes(3).toString('hex')}`,
        Cmd: ['sh', '-c', 'mkdir -p /www && echo dockerode-ok > /www/index.html && echo serving && exec httpd -f -p 80 -h /www'],
        Labels: { [LABEL_KEY]: label },
        ExposedPorts: { '80/tcp': {} },
        // No HostPort: the engine picks a free one, read back from inspect.
        HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
      });
      try {
        await c.start();
        const info = await c.inspect();
        expect(info.State.Running).toBe(true);
        expect(info.Config.Labels[LABEL_KEY]).toBe(label);
        const bound = info.NetworkSettings.Ports['80/tcp']?.[0];
        expect(bound?.HostIp).toBe('127.0.0.1');
        const hostPort = Number(bound?.HostPort);
        expect(hostPort).toBeGreaterThan(0);

        // Logs as Docker's multiplexed stream, taken apart by the client's own demuxer.
        await eventually(async () => ((await c.logs({ stdout: true, stderr: true })).toString().includes('serving') ? true : undefined), 10_000, 'the log line');
        expect(await (await fetch(`http://127.0.0.1:${hostPort}/`)).text()).toBe('dockerode-ok\n');

        const exec = await c.exec({ Cmd: ['sh', '-c', 'echo to-out; echo to-err >&2; exit 5'], AttachStdout: true, AttachStderr: true });
        const stream = await exec.start({ hijack: true, stdin: false });
        const out = new PassThrough();
        const err = new PassThrough();
        const chunks = { out: '', err: '' };
        out.on('data', (b: Buffer) => (chunks.out += b.toString()));
        err.on('data', (b: Buffer) => (chunks.err += b.toString()));
        docker.modem.demuxStream(stream, out, err);
        await new Promise((r) => stream.once('end', r));
        expect(chunks).toEqual({ out: 'to-out\n', err: 'to-err\n' });
        expect((await exec.inspect()).ExitCode).toBe(5);

        const listed = await docker.listContainers({ filters: { label: [`${LABEL_KEY}=${label}`] } });
        expect(listed.map((x) => x.Id)).toContain(c.id);

        const waited = c.wait();
        await c.stop({ t: 2 });
        expect([0, 137, 143]).toContain((await waited).StatusCode);
        expect((await c.inspect()).State.Running).toBe(false);
      } finally {
        await c.remove({ force: true }).catch(() => undefined);
      }
      await expect(c.inspect()).rejects.toMatchObject({ statusCode: 404 });
    });
  });

  describe('testcontainers', () => {
    /** The container is on the target under test, not on a socket testcontainers fell back to. */
    async function onTarget(c: StartedTestContainer): Promise<void> {
      const { target } = get();
      expect((await target.ok(['inspect', '-f', '{{.Id}}', c.getId()])).trim()).toBe(c.getId());
    }

    it('GenericContainer with a published port and a log wait strategy', async () => {
      const { label } = get();
      const c = await new GenericContainer(IMAGE)
        .withCommand(['sh', '-c', 'mkdir -p /www && echo tc-ok > /www/index.html && sleep 1 && echo "server ready" && exec httpd -f -p 80 -h /www'])
        .withExposedPorts(80)
        .withLabels({ [LABEL_KEY]: label })
        .withWaitStrategy(Wait.forLogMessage('server ready'))
        .start();
      try {
        await onTarget(c);
        expect(c.getHost()).toBe('127.0.0.1');
        // The wait strategy returned after the line: httpd is exec'd right after it, so the page answers at once or very soon.
        const page = await eventually(async () => (await fetch(`http://${c.getHost()}:${c.getMappedPort(80)}/`)).text(), 5_000, 'the page');
        expect(page).toBe('tc-ok\n');
      } finally {
        await c.stop();
      }
    });

    it('a network of two containers that find each other by name', async () => {
      const { label } = get();
      let net: StartedNetwork | undefined;
      const started: StartedTestContainer[] = [];
      try {
        net = await new Network().start();
        const server = await new GenericContainer(IMAGE)
          .withNetwork(net).withNetworkAliases('pong')
          .withLabels({ [LABEL_KEY]: label })
          .withCommand(['sh', '-c', 'echo pong-page > /index.html && exec httpd -f -p 8080 -h /'])
          .start();
        started.push(server);
        const clientName = `tsc-api-tc-client-${label}`;
        const client = await new GenericContainer(IMAGE)
          .withName(clientName)
          .withNetwork(net)
          .withLabels({ [LABEL_KEY]: label })
          .withCommand(['sleep', '300'])
          .start();
        started.push(client);
        for (const c of started) await onTarget(c);
        const byAlias = await eventually(async () => {
          // busybox-static's wget crashes on name lookups (static glibc); nc resolves the name as ping does.
          const r = await client.exec(['sh', '-c', 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 2 pong 8080']);
          return r.exitCode === 0 && r.output.includes('200 OK') ? r.output : undefined;
        }, 10_000, 'the alias answering');
        expect(byAlias.endsWith('\r\n\r\npong-page\n')).toBe(true);
        // And by container name, the other way round. The name is given: dockerd's DNS does not answer the names it
        // makes up itself ("elated_bassi"), where the native engine's does; a client cannot rely on those.
        const r = await server.exec(['ping', '-c1', '-W2', clientName]);
        expect(r.exitCode, r.output).toBe(0);
      } finally {
        for (const c of started.reverse()) await c.stop().catch(() => undefined);
        await net?.stop();
      }
    });
  });
}
