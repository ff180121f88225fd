import { describe, expect, it } from 'vitest';
import { parseHttpHead } from '../src/rules/http-stream.js';
import { newFindings, type Findings } from '../src/rules/types.js';
import { AB, BA, Conn, makeFlow } from './rules-fixtures.js';

function expected(over: Partial<Findings>): Findings {
  return { ...newFindings(), category: 'mining', ...over };
}

const LOGIN = 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq.rig1';

function post(body: string, extra = ''): string {
  return (
    'POST / HTTP/1.1\r\n' +
    `Authorization: Basic ${Buffer.from(`${LOGIN}:x`).toString('base64')}\r\n` +
    'Host: mint.bitminter.com:8332\r\n' +
    'Accept: */*\r\n' +
    'User-Agent: cgminer 2.7.2\r\n' +
    'Content-type: application/json\r\n' +
    extra +
    `Content-Length: ${body.length}\r\n\r\n` +
    body
  );
}

function reply(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n${extra}Content-Length: ${body.length}\r\n\r\n${body}`;
}

const GETWORK = '{"method": "getwork", "params": [], "id":0}';
const DATA =
  '00000001c570c4764aadb3f09895619f549000b8b51a789e7f58ea750000709700000000103ca064f8c76c390683f8203043e91466a7fcc40e6ebc428fbcc2d89b574a864db8345b1b00b5ac00000000000000800000000000000000000000000000000000000000000000000000000000000000000000000000000080020000';
const WORK = `{"result":{"midstate":"e772fc6964e7b06d8f855a6166353e48b2562de4ad037abc889294cea8ed1070","data":"${DATA}","hash1":"00000000000000000000000000000000000000000000000000000000000000000000008000000000000000000000000000000000000000000000000000010000","target":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000"},"error":null,"id":0}`;
const SUBMIT = `{"method": "getwork", "params": ["${DATA}"], "id":1}`;
const MINING_HEADERS = 'X-Mining-Extensions: longpoll midstate rollntime submitold\r\nX-Mining-Hashrate: 3200000000\r\n';

describe('getwork over HTTP', () => {
  it('cgminer session: request, work, share accepted', () => {
    const c = new Conn()
      .send(AB, post(GETWORK, MINING_HEADERS))
      .send(BA, reply(WORK, 'X-Long-Polling: /LP\r\nX-Roll-NTime: expire=120\r\n'))
      .send(AB, post(SUBMIT, MINING_HEADERS))
      .send(BA, reply('{"result":true,"error":null,"id":1}'));
    expect(c.flow.findings).toEqual(
      expected({
        evidence: ['http-mining'],
        minerSide: 1,
        login: LOGIN,
        worker: 'rig1',
        agent: 'cgminer 2.7.2',
        poolHost: 'mint.bitminter.com',
        coin: 'btc',
        difficulty: 1,
        target: 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000',
        sharesSubmitted: 1,
        sharesAccepted: 1,
      }),
    );
  });

  it('the request split at every byte position', () => {
    const msg = post(GETWORK);
    for (let i = 1; i < msg.length; i++) {
      const c = new Conn().sendSplit(AB, msg, [i]);
      expect(c.flow.findings?.agent, `cut at ${i}`).toBe('cgminer 2.7.2');
      expect(c.flow.findings?.poolHost).toBe('mint.bitminter.com');
    }
  });

  it('request and body one byte per segment, pipelined requests in one segment', () => {
    const msg = post(GETWORK) + post(SUBMIT);
    const c = new Conn().sendSplit(AB, msg, [...Array(msg.length).keys()]);
    expect(c.flow.findings?.sharesSubmitted).toBe(1);
    const d = new Conn().send(AB, msg);
    expect(d.flow.findings?.sharesSubmitted).toBe(1);
  });

  it('pool only: a getwork answer alone, with headers only mining pools send', () => {
    const c = new Conn().send(BA, reply(WORK, 'X-Stratum: stratum+tcp://stratum.example-pool.net:3333\r\n'));
    expect(c.flow.findings).toEqual(
      expected({
        evidence: ['http-mining'],
        minerSide: 1,
        poolHost: 'stratum.example-pool.net',
        difficulty: 1,
        target: 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000',
      }),
    );
  });

  it('getblocktemplate and eth_submitHashrate requests', () => {
    const gbt = new Conn().send(
      AB,
      post('{"jsonrpc":"1.0","id":"pool","method":"getblocktemplate","params":[{"rules":["segwit"]}]}'),
    );
    expect(gbt.flow.findings?.evidence).toEqual(['http-mining']);
    const eth = new Conn(makeFlow({ bPort: 8545 })).send(
      BA,
      post('{"jsonrpc":"2.0","method":"eth_submitHashrate","params":["0x1dcd6500","0x59b1a1f0f6e4c5b2a1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8"],"id":73}'),
    );
    expect(eth.flow.findings?.reportedHashrate).toBe(500_000_000);
    expect(eth.flow.findings?.minerSide).toBe(2);
    expect(eth.flow.findings?.coin).toBe('eth');
  });
});

describe('more HTTP shapes', () => {
  it('100 Continue before the answer', () => {
    const c = new Conn()
      .send(AB, post(SUBMIT, 'Expect: 100-continue\r\n'))
      .send(BA, 'HTTP/1.1 100 Continue\r\n\r\n')
      .send(BA, reply('{"result":false,"error":null,"id":1}'));
    expect(c.flow.findings?.sharesSubmitted).toBe(1);
    expect(c.flow.findings?.sharesRejected).toBe(1);
  });

  it('XMRig daemon mode: monerod get_block_template', () => {
    const XMR = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
    const c = new Conn(makeFlow({ bPort: 18081 }))
      .send(AB, post(`{"id":0,"jsonrpc":"2.0","method":"get_block_template","params":{"wallet_address":"${XMR}","reserve_size":60}}`))
      .send(
        BA,
        reply(
          `{"id":0,"jsonrpc":"2.0","result":{"blocktemplate_blob":"${'0e'.repeat(80)}","difficulty":323145936287,"height":3115633,"status":"OK"}}`,
        ),
      );
    expect(c.flow.findings).toMatchObject({ evidence: ['http-mining'], minerSide: 1, login: XMR, coin: 'xmr', difficulty: 323145936287 });
  });

  it('long polling GET with mining headers', () => {
    const c = new Conn().send(
      BA,
      'GET /LP HTTP/1.1\r\nHost: pool.example.net:8337\r\nUser-Agent: bfgminer/3.10.0\r\nX-Mining-Extensions: longpoll midstate rollntime submitold\r\n\r\n',
    );
    expect(c.flow.findings).toMatchObject({ evidence: ['http-mining'], minerSide: 2, agent: 'bfgminer/3.10.0', poolHost: 'pool.example.net' });
  });
});

describe('parseHttpHead', () => {
  it('answers incomplete, then ok with the fields', () => {
    const head = Buffer.from('GET /LP HTTP/1.1\r\nHost: [2001:db8::1]:8332\r\nX-Mining-Extensions: longpoll\r\n\r\n');
    expect(parseHttpHead(head, 0, head.length - 2).status).toBe('incomplete');
    const a = parseHttpHead(head, 0, head.length);
    expect(a.status).toBe('ok');
    if (a.status !== 'ok') return;
    expect(a.consumed).toBe(head.length);
    expect(a.head).toMatchObject({ isRequest: true, method: 'GET', host: '2001:db8::1', miningHeader: true, contentLength: -1 });
  });
  it('error on a bad start line or content length', () => {
    const bad = Buffer.from('FOO\r\n\r\n');
    expect(parseHttpHead(bad, 0, bad.length).status).toBe('error');
    const len = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n');
    expect(parseHttpHead(len, 0, len.length).status).toBe('error');
  });
});
