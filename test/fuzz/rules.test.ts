/**
 * Fuzz: JSON-RPC parsing (src/rules/jsonrpc.ts), each Stratum dialect (src/rules/dialects/:
 * stratum, ethereum-stratum, ethproxy, cryptonote), the dispatcher that links answers to requests
 * (dialects/index.ts, session.ts) and the HTTP mining rule (src/rules/http.ts), on mining
 * messages mutated as JSON trees: values replaced by other types, edge numbers (1e999, -1, 0),
 * hex strings of boundary lengths, other methods; keys added and removed.
 *
 * Contract: a parsed message or null, never an exception, whatever shape the peer sent; a
 * dialect answers null or a typed result (known evidence, sender, request and share kinds;
 * strings bounded and non-empty; difficulties and hash rates finite numbers); session memory
 * stays bounded.
 */
import fc from 'fast-check';
import { describe } from 'vitest';
import { readMessage, DIALECTS } from '../../src/rules/dialects/index.js';
import { cryptonote } from '../../src/rules/dialects/cryptonote.js';
import { ethereumStratum } from '../../src/rules/dialects/ethereum-stratum.js';
import { ethproxy } from '../../src/rules/dialects/ethproxy.js';
import { stratum } from '../../src/rules/dialects/stratum.js';
import type { Dialect, DialectResult } from '../../src/rules/dialects/types.js';
import { httpMining } from '../../src/rules/http.js';
import { parseHttpHead } from '../../src/rules/http-stream.js';
import { parseJsonRpc, type JsonRpcMessage } from '../../src/rules/jsonrpc.js';
import { MAX_PENDING, newSession, trackRequest, type SessionState } from '../../src/rules/session.js';
import { jsonLines } from './corpus.js';
import { expectLinear } from './linear.js';
import { applyJson, jsonCase } from './mutate.js';
import { check, fuzz } from './runs.js';

const EVIDENCE = ['stratum', 'ethproxy', 'ethereum-stratum', 'cryptonote', 'http-mining'];
const SENDERS = ['miner', 'pool', null];
const KINDS = ['subscribe', 'authorize', 'submit', 'get_version', 'eth_login', 'eth_getwork', 'eth_submit', 'eth_hashrate', 'cn_login', 'cn_submit', 'cn_getjob', 'cn_keepalive', 'getwork', 'getwork_submit', 'gbt', 'submitblock', null];
const SHARES = ['submitted', 'accepted', 'rejected', null];
const JSON_DICT = ['{', '}', '[', ']', ',', ':', '"', '\\', '\\u0000', '\n', ' '];

function checkResult(r: DialectResult | null, who: string): void {
  if (r === null) return;
  const bad = (what: string) => `${who}: ${what} in ${JSON.stringify(r)}`;
  check(EVIDENCE.includes(r.evidence), bad('evidence'));
  check(SENDERS.includes(r.sender), bad('sender'));
  check(typeof r.weak === 'boolean' && typeof r.coinHintStrong === 'boolean', bad('flags'));
  check(KINDS.includes(r.request), bad('request kind'));
  check(SHARES.includes(r.share), bad('share'));
  for (const k of ['login', 'worker', 'agent', 'algo', 'poolHost', 'target', 'coinHint'] as const) {
    const v = r[k];
    check(v === null || (typeof v === 'string' && v.length > 0 && v.length <= 1024), bad(k));
  }
  check(r.difficulty === null || (Number.isFinite(r.difficulty) && r.difficulty > 0), bad('difficulty'));
  check(r.reportedHashrate === null || (Number.isFinite(r.reportedHashrate) && r.reportedHashrate >= 0), bad('reported hash rate'));
}

function checkSession(s: SessionState): void {
  for (const m of s.pending) check(m === null || m.size <= MAX_PENDING, 'pending requests over MAX_PENDING');
  check(s.dialect === null || EVIDENCE.includes(s.dialect), 'session dialect');
}

function parsed(line: string): JsonRpcMessage | null {
  const b = Buffer.from(line, 'utf8');
  const m = parseJsonRpc(b, 0, b.length);
  if (m !== null) {
    check(m.method === null || typeof m.method === 'string', 'method type');
    check(typeof m.hasResult === 'boolean' && m.answers === null, 'message shape');
    check(typeof m.obj === 'object' && m.obj !== null && !Array.isArray(m.obj), 'obj is an object');
  }
  return m;
}

/** A session where every kind of request is pending in both directions, so answers are read as answers. */
function primedSession(ids: unknown[]): SessionState {
  const s = newSession();
  const kinds = KINDS.filter((k) => k !== null);
  ids.forEach((id, i) => {
    trackRequest(s, 0, id, kinds[i % kinds.length] as never);
    trackRequest(s, 1, id, kinds[(i + 3) % kinds.length] as never);
  });
  return s;
}

const IDS: unknown[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, '0', 'curltest', 0];

describe('fuzz: JSON-RPC and the mining dialects', () => {
  const corpus = jsonLines();
  const dialects: [string, Dialect][] = [
    ['stratum', stratum],
    ['ethereum-stratum', ethereumStratum],
    ['ethproxy', ethproxy],
    ['cryptonote', cryptonote],
  ];

  for (const [name, dialect] of dialects) {
    fuzz(
      `dialect ${name}: mutated messages answer null or a typed result`,
      fc.record({ j: jsonCase(corpus, JSON_DICT), dir: fc.constantFrom(0 as const, 1 as const), primed: fc.boolean(), established: fc.boolean() }),
      ({ j, dir, primed, established }) => {
        const m = parsed(applyJson(corpus, JSON_DICT, j));
        if (m === null) return;
        const s = primed ? primedSession(IDS) : newSession();
        if (established) s.dialect = name as SessionState['dialect'];
        // As the dispatcher does: an answer learns what it answers first.
        if (m.method === null && primed) m.answers = 'submit';
        checkResult(dialect(m, dir, s), name);
        checkSession(s);
      },
    );
  }

  fuzz(
    'dispatcher: sequences of mutated messages in both directions keep typed results and bounded session memory',
    fc.array(fc.record({ j: jsonCase(corpus, JSON_DICT), dir: fc.constantFrom(0 as const, 1 as const) }), { minLength: 1, maxLength: 12 }),
    (msgs) => {
      const s = newSession();
      for (const { j, dir } of msgs) {
        const m = parsed(applyJson(corpus, JSON_DICT, j));
        if (m === null) continue;
        checkResult(readMessage(m, dir, s), 'readMessage');
        checkSession(s);
      }
      check(DIALECTS.length === 4, 'four dialects');
    },
  );

  const HEADS = [
    'POST / HTTP/1.1\r\nHost: pool.example.net:8332\r\nAuthorization: Basic d29ya2VyOng=\r\nUser-Agent: cgminer 2.7.2\r\nX-Mining-Extensions: midstate\r\nContent-Length: 10\r\n\r\n',
    'POST /json_rpc HTTP/1.1\r\nHost: [2001:db8::1]:18081\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Stratum: stratum+tcp://pool.example:3333\r\nX-Long-Polling: /LP\r\nContent-Length: 10\r\n\r\n',
    'HTTP/1.0 500 Error\r\nContent-Length: 10\r\n\r\n',
  ];
  fuzz(
    'HTTP mining rule: mutated request and response bodies under mining and plain heads answer null or a typed result',
    fc.record({ h: fc.nat(HEADS.length - 1), j: jsonCase(corpus, JSON_DICT), dir: fc.constantFrom(0 as const, 1 as const), primed: fc.boolean(), auth: fc.option(fc.string({ maxLength: 40 })) }),
    ({ h, j, dir, primed, auth }) => {
      let headText = HEADS[h]!;
      if (auth !== null) headText = headText.replace('\r\n\r\n', `\r\nAuthorization: Basic ${Buffer.from(auth).toString('base64')}\r\n\r\n`);
      const hb = Buffer.from(headText, 'latin1');
      const a = parseHttpHead(hb, 0, hb.length);
      check(a.status === 'ok', 'seed head parses');
      if (a.status !== 'ok') return;
      const s = primed ? primedSession(IDS) : newSession();
      const m = parsed(applyJson(corpus, JSON_DICT, j));
      checkResult(httpMining(a.head, m, dir, s), 'httpMining');
      checkSession(s);
    },
  );

  fuzz(
    'dispatcher: time per message does not grow with the number of messages',
    fc.array(jsonCase(corpus, JSON_DICT), { minLength: 1, maxLength: 8 }),
    (cases) => {
      const lines = cases.map((c) => applyJson(corpus, JSON_DICT, c));
      const run = (ls: string[]) => {
        const s = newSession();
        let dir: 0 | 1 = 0;
        for (const l of ls) {
          const m = parsed(l);
          if (m !== null) readMessage(m, dir, s);
          dir = dir === 0 ? 1 : 0;
        }
      };
      const k = Math.max(1, Math.ceil(200 / lines.length));
      const small = Array.from({ length: k }, () => lines).flat();
      const big = Array.from({ length: 10 * k }, () => lines).flat();
      const size = (ls: string[]) => ls.reduce((n, l) => n + l.length + 1, 0);
      expectLinear({ small, big, smallSize: size(small), bigSize: size(big) }, run, 'JSON-RPC messages');
    },
    { scale: 0.01, min: 5 },
  );
});
