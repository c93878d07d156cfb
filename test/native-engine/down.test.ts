import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ready, useNativeEngine } from './harness.js';
import { BUSYBOX, hostLeftovers, settledLeftovers } from './support.js';

/**
 * `down` on the native engine leaves nothing: no container, monitor, mount,
 * cgroup, bridge, veth, namespace handle, firewall rule, published port or
 * daemon, and no anonymous volume; named volumes stay until `down -v`.
 */
const FILE = `
services:
  db:
    image: ${BUSYBOX}
    command: ["sh", "-c", "mkdir -p /www; echo db > /www/index.html; exec httpd -f -p 8080 -h /www"]
    init: true
    volumes: [data:/data, /anon]
    networks: [back]
    healthcheck: { test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"], interval: 100ms, retries: 50 }
    restart: always
  web:
    image: ${BUSYBOX}
    command: ["sh", "-c", "mkdir -p /www; wget -q -O /www/index.html http://db:8080/ && exec httpd -f -p 8080 -h /www"]
    init: true
    depends_on: { db: { condition: service_healthy } }
    networks: [back, front]
    ports: ["127.0.0.1::8080"]
    configs: [{ source: motd, target: /etc/motd }]
    restart: unless-stopped
configs:
  motd: { content: "hello" }
networks:
  back: { internal: true }
  front: {}
volumes:
  data: {}
`;

describe('down on the native engine', () => {
  const t = useNativeEngine();

  it('leaves nothing in the kernel; anonymous volumes go, named ones only with -v', async () => {
    await ready(t);
    const up = await t.compose(['up', '-d', '--wait'], FILE);
    expect(up.code, up.stderr).toBe(0);
    const port = (await t.compose(['port', 'web', '8080'])).stdout.trim();
    expect(await fetch(`http://${port}/`).then((r) => r.text())).toBe('db\n');
    expect((await t.compose(['exec', '-T', 'db', 'sh', '-c', 'echo kept > /data/f'])).code).toBe(0);
    const volumes = () => readdirSync(join(t.root().state, 'volumes')).filter((v) => !v.startsWith('.'));
    expect(volumes()).toHaveLength(2);
    expect(hostLeftovers(t.root()).length).toBeGreaterThan(0); // the check sees a running project

    const down = await t.compose(['down']);
    expect(down.code, down.stderr).toBe(0);
    expect(await settledLeftovers(t.root())).toEqual([]);
    expect(t.daemons()).toEqual([]);
    expect(volumes()).toEqual(['netest_data']);
    await expect(fetch(`http://${port}/`)).rejects.toThrow();

    expect((await t.compose(['up', '-d', '--wait'])).code).toBe(0);
    expect((await t.compose(['exec', '-T', 'db', 'cat', '/data/f'])).stdout).toBe('kept\n');
    expect((await t.compose(['down', '-v'])).code).toBe(0);
    expect(await settledLeftovers(t.root())).toEqual([]);
    expect(volumes()).toEqual([]);
    expect((await t.engine().containers.list({ all: true })).length).toBe(0);
    expect((await t.engine().networks.list()).length).toBe(0);
  });
});
