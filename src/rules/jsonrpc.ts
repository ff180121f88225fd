import type { PendingKind } from './session.js';

/** One parsed JSON-RPC object (request, notification or response), as the dialects see it. */
export interface JsonRpcMessage {
  id: unknown;
  /** Method name for requests and notifications, null for responses. */
  method: string | null;
  params: unknown;
  /** True when the object has a "result" key (even `null`). */
  hasResult: boolean;
  result: unknown;
  /** The "error" member; undefined or null when there is none. */
  error: unknown;
  /** The whole object, for dialect-specific members (EthProxy's "worker"). */
  obj: Record<string, unknown>;
  /** For responses: what the request with this id was, filled in by the dispatcher. */
  answers: PendingKind | null;
}

const K_METHOD = Buffer.from('"method"');
const K_RESULT = Buffer.from('"result"');
const K_JSONRPC = Buffer.from('"jsonrpc"');

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/**
 * Cheap test on bytes before any string is built: the first non-blank byte is `{` and one of the
 * JSON-RPC keys occurs. Most non-mining lines stop here.
 */
export function looksLikeJsonRpc(buf: Buffer, start: number, end: number): number {
  let s = start;
  while (s < end && isSpace(buf[s]!)) s++;
  if (s >= end || buf[s] !== 0x7b) return -1;
  const v = buf.subarray(s, end);
  if (v.indexOf(K_METHOD) === -1 && v.indexOf(K_RESULT) === -1 && v.indexOf(K_JSONRPC) === -1) return -1;
  return s;
}

/** Kept out of the callers so their loops carry no try/catch. */
function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse bytes [start, end) as one JSON-RPC message; null if they are not one (or do not parse). */
export function parseJsonRpc(buf: Buffer, start: number, end: number): JsonRpcMessage | null {
  const s = looksLikeJsonRpc(buf, start, end);
  if (s < 0) return null;
  const obj = tryParse(buf.toString('utf8', s, end));
  if (!isObject(obj)) return null;
  const method = typeof obj.method === 'string' ? obj.method : null;
  const hasResult = 'result' in obj;
  if (method === null && !hasResult && !('error' in obj)) return null;
  return {
    id: obj.id,
    method,
    params: obj.params,
    hasResult,
    result: obj.result,
    error: obj.error,
    obj,
    answers: null,
  };
}

// Small readers shared by the dialects: they never throw, whatever shape the peer sent.

export function str(v: unknown, max = 256): string | null {
  return typeof v === 'string' && v.length > 0 && v.length <= max ? v : null;
}

export function param(params: unknown, i: number): unknown {
  return Array.isArray(params) ? params[i] : undefined;
}

export function isHex(v: unknown, minLen = 1, maxLen = 4096): v is string {
  return typeof v === 'string' && v.length >= minLen && v.length <= maxLen && /^[0-9a-fA-F]+$/.test(v);
}

/** "0x" + exactly `digits` hex digits. */
export function isHex0x(v: unknown, digits: number): v is string {
  return typeof v === 'string' && v.length === digits + 2 && /^0x[0-9a-fA-F]+$/.test(v);
}

/** A JSON-RPC error member that actually reports an error. */
export function hasError(msg: JsonRpcMessage): boolean {
  return msg.error !== undefined && msg.error !== null && msg.error !== false;
}
