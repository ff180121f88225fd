import { describe, expect, it } from 'vitest';
import { live } from './helpers/names.js';
import { AB, BA, Conn, makeFlow } from './rules-fixtures.js';

const names = live({ domains: ['coinhive-like.example', 'pool.example:8332'], version: 9 });
const get = (host: string, path = '/lib/miner.min.js', extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n${extra}\r\n`;

describe('HTTP Host of a listed domain (evidence http-host)', () => {
  it('ordinary web traffic to a browser-mining domain: flagged, the client is the miner', () => {
    const c = new Conn(makeFlow({ bPort: 80, synFrom: 1 }), names)
      .send(AB, get('www.coinhive-like.example'))
      .send(BA, 'HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Length: 20\r\n\r\nvar miner = 1; // ..');
    expect(c.flow.findings).toMatchObject({
      category: 'mining',
      evidence: ['http-host'],
      blacklistEntry: 'coinhive-like.example',
      blacklistVersion: 9,
      poolHost: 'www.coinhive-like.example',
      minerSide: 1,
    });
  });

  it('a WebSocket upgrade to the miner proxy, Host with a port and in upper case', () => {
    const c = new Conn(makeFlow({ bPort: 8080 }), names).send(
      AB,
      get('WS.Coinhive-Like.Example:8080', '/proxy', 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'),
    );
    expect(c.flow.findings).toMatchObject({ evidence: ['http-host'], poolHost: 'ws.coinhive-like.example' });
  });

  it('the request may come from side B', () => {
    const c = new Conn(makeFlow({ aPort: 80, bPort: 51000 }), names).send(BA, get('coinhive-like.example'));
    expect(c.flow.findings).toMatchObject({ evidence: ['http-host'], minerSide: 2 });
  });

  it('a port-limited entry needs the server port', () => {
    const on = new Conn(makeFlow({ bPort: 8332 }), names).send(AB, get('pool.example', '/'));
    expect(on.flow.findings?.blacklistEntry).toBe('pool.example:8332');
    const off = new Conn(makeFlow({ bPort: 80 }), names).send(AB, get('pool.example', '/'));
    expect(off.flow.findings).toBeNull();
  });

  it('getwork to a listed pool host shows both the name and the protocol', () => {
    const body = '{"method":"getwork","params":[],"id":0}';
    const c = new Conn(makeFlow({ bPort: 8332 }), names).send(
      AB,
      `POST / HTTP/1.1\r\nHost: pool.example:8332\r\nUser-Agent: cgminer 2.7.2\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(c.flow.findings).toMatchObject({ category: 'mining', evidence: ['http-host', 'http-mining'], poolHost: 'pool.example', minerSide: 1 });
  });

  it('an unlisted Host, a sibling name, a response: nothing', () => {
    for (const host of ['www.example.com', 'notcoinhive-like.example', 'coinhive-like.example.evil']) {
      const c = new Conn(makeFlow({ bPort: 80, synFrom: 1 }), names).send(AB, get(host));
      expect(c.flow.findings, host).toBeNull();
    }
    const r = new Conn(makeFlow({ bPort: 80 }), names).send(BA, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    expect(r.flow.findings).toBeNull();
  });

  it('without names, the same request is just a web page', () => {
    const c = new Conn(makeFlow({ bPort: 80, synFrom: 1 })).send(AB, get('www.coinhive-like.example'));
    expect(c.flow.findings).toBeNull();
  });
});
