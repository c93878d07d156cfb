import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConflictError, NotFoundError, UserError, errorMessage } from '../util/errors.js';
import { EngineError, NotConnectedError } from '../engine/types.js';

/**
 * The HTTP side of the Docker Engine API: errors as dockerd gives them
 * (`{"message": ...}` with its status codes), request bodies read with a
 * limit, and Docker's query conventions (booleans, JSON filters).
 */

/** An error whose HTTP status is already decided. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string) => new ApiError(400, message);

/** JSON bodies (create requests, configs) larger than this are refused with 413; tar bodies are streamed, not held. */
export const JSON_BODY_LIMIT = 4 * 1024 * 1024;

/**
 * The status dockerd would answer for an error of ours: 404 for a missing
 * object, 409 for a conflict, 403 for a disconnect of a container not on
 * the network, 400 for what the caller asked wrongly (a UserError names
 * the option to fix), 500 for the rest.
 */
export function statusOf(err: unknown): number {
  if (err instanceof ApiError) return err.status;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  if (err instanceof NotConnectedError) return 403;
  if (err instanceof EngineError) return err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
  if (err instanceof UserError) return 400;
  return 500;
}

/** The message a client shows: the sentence, and the hint where there is one. */
export function messageOf(err: unknown): string {
  const hint = err instanceof UserError && err.hint ? ` (${err.hint})` : '';
  return `${errorMessage(err)}${hint}`;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, statusOf(err), { message: messageOf(err) });
}

export function sendNoContent(res: ServerResponse, status = 204): void {
  res.writeHead(status);
  res.end();
}

/** The whole body, refused with 413 past `limit` bytes (the rest is not read: the connection closes). */
export async function readBody(req: IncomingMessage, limit = JSON_BODY_LIMIT): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new ApiError(413, `request body of ${declared} bytes is over the limit of ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError(413, `request body is over the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A JSON object body; an empty body is `{}` (clients send none for a default). Given a Buffer, that is the body (an upgraded request's). */
export async function readJson(req: IncomingMessage | Buffer, what: string, limit = JSON_BODY_LIMIT): Promise<Record<string, unknown>> {
  const raw = Buffer.isBuffer(req) ? req : await readBody(req, limit);
  const text = raw.toString('utf8').trim();
  if (!text) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`malformed JSON in the ${what}: ${errorMessage(err)}`);
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`the ${what} must be a JSON object, not ${Array.isArray(value) ? 'an array' : typeof value}`);
  return value as Record<string, unknown>;
}

/** Docker's query booleans: "1", "true", "True" are true; absent is `dflt`. */
export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  return !['0', 'false', 'False', 'FALSE', 'no'].includes(v);
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)} is not a number`);
  return n;
}

/**
 * `filters={"label":["a=b"],"status":["exited"]}`, or the legacy form
 * `{"label":{"a=b":true}}`: each key's values as a list.
 */
export function parseFilters(q: URLSearchParams, allowed: readonly string[]): Record<string, string[]> {
  const raw = q.get('filters');
  if (!raw) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw badRequest(`invalid filters: ${errorMessage(err)}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw badRequest('invalid filters: expected a JSON object of lists');
  const out: Record<string, string[]> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!allowed.includes(key)) throw badRequest(`invalid filter '${key}'`);
    if (Array.isArray(v)) out[key] = v.map(String);
    else if (v && typeof v === 'object') out[key] = Object.entries(v as Record<string, unknown>).filter(([, on]) => on).map(([k]) => k);
    else throw badRequest(`invalid filter '${key}': expected a list of values`);
  }
  return out;
}

/** `label` filter values ("k" or "k=v") as the Engine's label filter. */
export function labelFilter(values: readonly string[] | undefined): Record<string, string | undefined> | undefined {
  if (!values?.length) return undefined;
  const out: Record<string, string | undefined> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i < 0) out[v] = undefined;
    else out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}
