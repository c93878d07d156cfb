import * as packet from 'dns-packet';
import type { DnsTable } from './table.js';
import { ptrToIpv4 } from './table.js';

/**
 * One query in, one answer out. Our names are answered here; everything else
 * goes to the forwarder, whose answer is relayed byte for byte.
 *
 * TTL is 0 (aardvark-dns's choice, not Docker's 600): a name must stop
 * resolving the moment its container stops, and replicas that come and go
 * must show up at once. Lookups are cheap (the server is on the same host),
 * so caching buys nothing worth a stale answer.
 */
export const DNS_TTL = 0;

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;
const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const RA = 0x0080;
const CLASSIC_UDP_LIMIT = 512;

export type Forwarder = (query: Buffer, transport: 'udp' | 'tcp') => Promise<Buffer | undefined>;

/** A bare header answer for queries we cannot even decode: same id, the opcode and RD echoed. */
function headerOnly(raw: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(raw.readUInt16BE(0), 0);
  const flags = raw.readUInt16BE(2);
  out.writeUInt16BE(QR | (flags & 0x7800) | (flags & RD) | RA | rcode, 2);
  return out;
}

export async function answerQuery(raw: Buffer, sourceIp: string, transport: 'udp' | 'tcp', table: DnsTable, forward: Forwarder): Promise<Buffer | undefined> {
  if (raw.length < 12) return undefined;
  let query: packet.DecodedPacket;
  try {
    query = packet.decode(raw);
  } catch {
    return headerOnly(raw, RCODE.FORMERR);
  }
  if (query.flag_qr) return undefined; // a response sent to us: ignore, never answer it
  if ((raw.readUInt16BE(2) >> 11) & 0xf) return headerOnly(raw, RCODE.NOTIMP);
  const q = query.questions?.[0];
  if (!q || query.questions!.length !== 1) return headerOnly(raw, RCODE.FORMERR);

  const local = localAnswer(q, sourceIp, table);
  if (local) return encodeReply(query, local, transport);

  const upstream = await forward(raw, transport);
  if (upstream) return upstream;
  return encodeReply(query, { rcode: RCODE.SERVFAIL, answers: [] }, transport);
}

interface LocalAnswer {
  rcode: number;
  answers: packet.Answer[];
}

function localAnswer(q: packet.Question, sourceIp: string, table: DnsTable): LocalAnswer | undefined {
  if (q.class && q.class !== 'IN') return undefined;
  if (q.type === 'PTR') {
    const ip = ptrToIpv4(q.name);
    const name = ip ? table.reverse(sourceIp, ip) : undefined;
    return name ? { rcode: RCODE.NOERROR, answers: [{ type: 'PTR', name: q.name, ttl: DNS_TTL, data: name }] } : undefined;
  }
  const ips = table.lookup(sourceIp, q.name);
  if (!ips) return undefined;
  // A known name with no address of the asked type (AAAA: our networks are IPv4) is an empty NOERROR, not NXDOMAIN.
  if (q.type !== 'A') return { rcode: RCODE.NOERROR, answers: [] };
  return { rcode: RCODE.NOERROR, answers: ips.map((ip) => ({ type: 'A' as const, name: q.name, ttl: DNS_TTL, data: ip })) };
}

function encodeReply(query: packet.DecodedPacket, a: LocalAnswer, transport: 'udp' | 'tcp'): Buffer {
  const opt = query.additionals?.find((r) => r.type === 'OPT') as packet.OptAnswer | undefined;
  const limit = transport === 'tcp' ? 65535 : Math.max(CLASSIC_UDP_LIMIT, Math.min(opt?.udpPayloadSize ?? 0, 4096));
  const rd = query.flag_rd ? RD : 0;
  const additionals: packet.Answer[] = opt ? [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [];
  let answers = a.answers;
  let tc = 0;
  for (;;) {
    const reply: packet.Packet = {
      type: 'response',
      id: query.id,
      flags: AA | rd | RA | tc | a.rcode,
      questions: query.questions,
      answers,
      additionals,
    };
    const buf = packet.encode(reply);
    if (buf.length <= limit || answers.length === 0) return buf;
    // Too big for the client's UDP buffer: keep what fits and set TC, so it asks again over TCP.
    answers = answers.slice(0, Math.max(0, Math.floor(answers.length * (limit / buf.length)) - 1));
    tc = TC;
  }
}

