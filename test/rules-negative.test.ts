import { describe, expect, it } from 'vitest';
import { BUDGET } from '../src/rules/inspect.js';
import { AB, BA, Conn, lines, makeFlow, randomBytes } from './rules-fixtures.js';

/** Keep a conversation going until inspection stops; return the bytes it took. */
function untilDone(c: Conn, a: string | Buffer, b: string | Buffer | null, limit = 4 * BUDGET): number {
  let bytes = 0;
  while (!c.flow.inspectionDone && bytes < limit) {
    c.send(AB, a);
    bytes += a.length;
    if (b !== null && !c.flow.inspectionDone) {
      c.send(BA, b);
      bytes += b.length;
    }
  }
  return bytes;
}

function http(method: string, body: string, host = '127.0.0.1:8332'): string {
  return `${method} / HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Basic dXNlcjpwYXNz\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}
function ok(body: string): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

describe('not mining: generic JSON-RPC', () => {
  it('bitcoind wallet RPC over HTTP', () => {
    const c = new Conn(makeFlow({ bPort: 8332 }));
    const calls = ['getbalance', 'getblockchaininfo', 'getmininginfo', 'sendtoaddress'];
    for (const m of calls) {
      c.send(AB, http('POST', `{"jsonrpc": "1.0", "id": "curltest", "method": "${m}", "params": []}`));
      c.send(BA, ok('{"result":0.00000000,"error":null,"id":"curltest"}\n'));
    }
    expect(c.flow.findings).toBeNull();
    const used = untilDone(c, http('POST', '{"jsonrpc":"1.0","id":"x","method":"getbalance","params":[]}'), ok('{"result":1.5,"error":null,"id":"x"}'));
    expect(c.flow.inspectionDone).toBe(true);
    expect(c.flow.inspector).toBeNull();
    expect(used).toBeLessThan(2.5 * BUDGET);
    expect(c.flow.findings).toBeNull();
  });

  it('bitcoind-style RPC as JSON lines', () => {
    const c = new Conn();
    c.send(AB, lines('{"jsonrpc":"1.0","id":1,"method":"getblockchaininfo","params":[]}'));
    c.send(BA, lines('{"result":{"chain":"main","blocks":820000,"headers":820000},"error":null,"id":1}'));
    expect(c.flow.findings).toBeNull();
    untilDone(c, lines('{"jsonrpc":"1.0","id":2,"method":"getbalance","params":[]}'), lines('{"result":0,"error":null,"id":2}'));
    expect(c.flow.inspectionDone).toBe(true);
    expect(c.flow.findings).toBeNull();
  });

  it('Ethereum node RPC', () => {
    const c = new Conn(makeFlow({ bPort: 8545 }));
    const reqs = [
      '{"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":1}',
      '{"jsonrpc":"2.0","method":"eth_getBalance","params":["0xea674fdde714fd979de3edf0f56aa9716b898ec8","latest"],"id":2}',
      '{"jsonrpc":"2.0","method":"eth_call","params":[{"to":"0x6b175474e89094c44da98b954eedeac495271d0f","data":"0x70a08231000000000000000000000000ea674fdde714fd979de3edf0f56aa9716b898ec8"},"latest"],"id":3}',
    ];
    for (const r of reqs) {
      c.send(AB, http('POST', r, 'mainnet.infura.example:8545'));
      c.send(BA, ok('{"jsonrpc":"2.0","id":1,"result":"0x12a05f200"}'));
    }
    for (const r of reqs) c.send(AB, lines(r)).send(BA, lines('{"jsonrpc":"2.0","id":1,"result":"0x10d4f"}'));
    expect(c.flow.findings).toBeNull();
  });

  it('web APIs with login / job / submit methods of their own', () => {
    const c = new Conn();
    c.send(
      AB,
      lines(
        '{"jsonrpc":"2.0","method":"login","params":{"username":"bob","password":"hunter2"},"id":1}',
        '{"jsonrpc":"2.0","method":"login","params":{"login":"bob","pass":"hunter2"},"id":2}',
        '{"jsonrpc":"2.0","method":"login","params":["bob","hunter2"],"id":3}',
        '{"jsonrpc":"2.0","method":"submit","params":{"form":"contact","email":"a@b.example"},"id":4}',
        '{"jsonrpc":"2.0","method":"keepalived","params":{}}',
      ),
    );
    c.send(
      BA,
      lines(
        '{"jsonrpc":"2.0","id":1,"result":{"token":"abc","status":"OK"}}',
        '{"jsonrpc":"2.0","method":"job","params":{"id":"build-42","status":"running","target":"release"}}',
        '{"jsonrpc":"2.0","id":4,"result":{"status":"OK"}}',
      ),
    );
    expect(c.flow.findings).toBeNull();
  });

  it('LSP (Content-Length framed JSON-RPC)', () => {
    const body = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":4242,"rootUri":"file:///src","capabilities":{}}}';
    const msg = `Content-Length: ${body.length}\r\n\r\n${body}`;
    const withSyn = new Conn(makeFlow({ synFrom: 1 }));
    withSyn.send(AB, msg).send(BA, `Content-Length: 45\r\n\r\n{"jsonrpc":"2.0","id":1,"result":{"ok":true}}`);
    expect(withSyn.flow.inspectionDone).toBe(true);
    expect(withSyn.flow.findings).toBeNull();
    const noSyn = new Conn();
    untilDone(noSyn, msg, `Content-Length: 45\r\n\r\n{"jsonrpc":"2.0","id":1,"result":{"ok":true}}`);
    expect(noSyn.flow.inspectionDone).toBe(true);
    expect(noSyn.flow.findings).toBeNull();
  });
});

describe('not mining: other traffic', () => {
  it('TLS ClientHello ends inspection at once', () => {
    const hello = Buffer.from(
      '160301020001000' + '1fc0303' + 'a1'.repeat(32) + '20' + 'b2'.repeat(32) + '0020' + '1301130213031302c02bc02f',
      'hex',
    );
    const c = new Conn().send(AB, hello);
    expect(c.flow.inspectionDone).toBe(true);
    expect(c.flow.inspector).toBeNull();
    expect(c.flow.findings).toBeNull();
  });

  it('TLS on a pool port is still just TLS', () => {
    const c = new Conn(makeFlow({ bPort: 3333 })).send(BA, Buffer.from('1703030040' + 'cc'.repeat(64), 'hex'));
    expect(c.flow.inspectionDone).toBe(true);
  });

  it('a text protocol that borrows an HTTP method word (NATS CONNECT)', () => {
    const c = new Conn(makeFlow({ bPort: 4222, synFrom: 1 }))
      .send(BA, 'INFO {"server_id":"NALG56HQZ4C4","version":"2.9.15","proto":1,"max_payload":1048576}\r\n')
      .send(AB, 'CONNECT {"verbose":false,"pedantic":false,"lang":"go","version":"1.30.2","protocol":1}\r\nPING\r\n');
    expect(c.flow.inspectionDone).toBe(true);
    expect(c.flow.findings).toBeNull();
  });

  it('plain HTTP GET of a web page', () => {
    const c = new Conn(makeFlow({ bPort: 80, synFrom: 1 }))
      .send(AB, 'GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: text/html\r\n\r\n')
      .send(BA, 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2000\r\n\r\n<!doctype html><html><head><title>Example');
    c.send(BA, 'x'.repeat(2000 - 41));
    expect(c.flow.inspectionDone).toBe(true);
    expect(c.flow.findings).toBeNull();
  });

  it('random bytes from both sides, connection start seen: done after the first segments', () => {
    const c = new Conn(makeFlow({ synFrom: 1 })).send(AB, randomBytes(600, 1)).send(BA, randomBytes(900, 2));
    expect(c.flow.inspectionDone).toBe(true);
    expect(c.flow.findings).toBeNull();
  });

  it('random bytes joined mid-stream: done after a bounded scan', () => {
    const c = new Conn();
    const used = untilDone(c, randomBytes(1460, 3), randomBytes(1460, 4));
    expect(c.flow.inspectionDone).toBe(true);
    expect(used).toBeLessThanOrEqual(2 * (16 * 1024 + 1460));
    expect(c.flow.findings).toBeNull();
  });

  it('random bytes one way only: done after a few KiB', () => {
    const c = new Conn(makeFlow({ synFrom: 1 }));
    const used = untilDone(c, randomBytes(1460, 5), null);
    expect(c.flow.inspectionDone).toBe(true);
    expect(used).toBeLessThanOrEqual(10 * 1024);
  });

  it('an endless JSON stream without mining stops at the budget', () => {
    const c = new Conn();
    const used = untilDone(c, lines('{"jsonrpc":"2.0","method":"tick","params":{"n":1}}'), lines('{"jsonrpc":"2.0","result":{"ok":1},"id":null}'));
    expect(c.flow.inspectionDone).toBe(true);
    // Each direction stops at its own budget (the shorter messages take a little longer).
    expect(used).toBeLessThanOrEqual(2.2 * BUDGET);
  });
});
