import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { writeJsonAtomic } from '../../src/util/atomic.js';
import type { NetworkRecord } from '../../src/network/types.js';

// The daemon's reload reads the kernel's forwards back (an iptables-save) only when the port records
// or the networks changed since the last reconcile that went through. The kernel is not touched here:
// the forwards module is replaced by a counter.
const kernel = vi.hoisted(() => ({ calls: 0, fail: false }));
vi.mock('../../src/network/ports/forwards.js', () => ({
  reconcilePortForwards: async () => {
    kernel.calls++;
    if (kernel.fail) throw new Error('iptables-save failed');
    return [];
  },
  setPortForwards: async () => undefined,
  dropPortForwards: async () => undefined,
}));

const { PortPublisher, portRecordPath, portsDir } = await import('../../src/network/ports/publisher.js');

describe('the port publisher\'s reconcile', () => {
  let dir: string;
  const before = process.env.TSCOMPOSE_RUN;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsc-ports-reconcile-'));
    process.env.TSCOMPOSE_RUN = dir;
    kernel.calls = 0;
    kernel.fail = false;
  });
  afterEach(() => {
    if (before === undefined) delete process.env.TSCOMPOSE_RUN;
    else process.env.TSCOMPOSE_RUN = before;
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the kernel again only when the records or the bridges of their targets changed, or the last attempt failed', async () => {
    const log: string[] = [];
    const p = new PortPublisher((m) => log.push(m));
    const net = { id: 'a'.repeat(64), bridge: 'tsc-br-aaaaaaaa', endpoints: {} } as unknown as NetworkRecord;
    await p.reconcile([net]);
    await p.reconcile([net]);
    expect(kernel.calls).toBe(1);

    // A record appears (no ports, so nothing is bound): the kernel is looked at again, once.
    portsDir();
    writeJsonAtomic(portRecordPath('c'.repeat(64)), { containerId: 'c'.repeat(64), containerName: 'c', targetIp: '10.0.0.2', ports: [] });
    await p.reconcile([net]);
    await p.reconcile([net]);
    expect(kernel.calls).toBe(2);

    // Another network that none of the records' targets is on changes nothing for the kernel's part.
    const other = { id: 'b'.repeat(64), bridge: 'tsc-br-bbbbbbbb', endpoints: {} } as unknown as NetworkRecord;
    await p.reconcile([net, other]);
    expect(kernel.calls).toBe(2);
    // The record's target on a network (its bridge gets loopback forwarding): again.
    const onIt = { ...other, endpoints: { ['c'.repeat(64)]: { ipv4: '10.0.0.2' } } } as unknown as NetworkRecord;
    await p.reconcile([net, onIt]);
    expect(kernel.calls).toBe(3);
    await p.reconcile([net, onIt]);
    expect(kernel.calls).toBe(3);

    // A failed attempt is not remembered as done.
    kernel.fail = true;
    await p.reconcile([net]);
    kernel.fail = false;
    await p.reconcile([net]);
    await p.reconcile([net]);
    expect(kernel.calls).toBe(5);
    expect(log.some((l) => l.includes('iptables-save failed'))).toBe(true);
  });
});
