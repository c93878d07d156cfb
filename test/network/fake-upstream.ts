import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import * as packet from 'dns-packet';

/**
 * The "host's resolver" for tests: UDP and TCP on 127.0.0.1, one port. It
 * knows a few names and says NXDOMAIN to the rest, and records what it was
 * asked, so tests see what the embedded DNS forwarded (and that nothing
 * leaves the machine).
 */
export interface FakeUpstream {
  port: number;
  queries: { name: string; type: string; transport: 'udp' | 'tcp' }[];
  close(): Promise<void>;
}

export const UPSTREAM_RECORDS: Record<string, string> = {
  'external.test': '198.51.100.7',
  'big.external.test': '198.51.100.8',
};

function answer(query: Buffer, transport: 'udp' | 'tcp', log: FakeUpstream['queries'], records: Record<string, string>): Buffer {
  const q = packet.decode(query);
  const question = q.questions![0]!;
  log.push({ name: question.name, type: question.type, transport });
  const ip = records[question.name.toLowerCase()];
  const known = ip !== undefined;
  return packet.encode({
    type: 'response',
    id: q.id,
    flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (known ? 0 : 3),
    questions: q.questions,
    answers: known && question.type === 'A' ? [{ type: 'A', name: question.name, ttl: 300, data: ip }] : [],
  });
}

export async function startFakeUpstream(host = '127.0.0.1', records = UPSTREAM_RECORDS): Promise<FakeUpstream> {
  const queries: FakeUpstream['queries'] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp: UdpSocket = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, host, () => r()));
    const port = udp.address().port;
    const tcp: Server = createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on('error', () => sock.destroy());
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const reply = answer(buf.subarray(2, 2 + buf.readUInt16BE(0)), 'tcp', queries, records);
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          sock.end(Buffer.concat([len, reply]));
        }
      });
    });
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, host, () => resolve(true));
    });
    if (!ok) {
      udp.close();
      continue;
    }
    udp.on('message', (msg, rinfo) => udp.send(answer(msg, 'udp', queries, records), rinfo.port, rinfo.address));
    let closed = false;
    return {
      port,
      queries,
      close: async () => {
        if (closed) return;
        closed = true;
        await new Promise<void>((r) => udp.close(() => r()));
        await new Promise<void>((r) => tcp.close(() => r()));
      },
    };
  }
  throw new Error('could not find a free port for the fake upstream resolver');
}
