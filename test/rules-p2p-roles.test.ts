import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseP2p } from '../src/rules/p2p.js';
import { DEFAULT_POOL_PORTS, decideMinerSide } from '../src/rules/roles.js';
import { newFindings } from '../src/rules/types.js';
import { AB, BA, Conn, lines, makeFlow } from './rules-fixtures.js';

function netAddr(ip: number[], port: number): Buffer {
  const b = Buffer.alloc(26);
  b.writeBigUInt64LE(0x409n, 0);
  Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ip]).copy(b, 8);
  b.writeUInt16BE(port, 24);
  return b;
}

/** A Bitcoin Core 25.0 version message as it goes on the wire. */
function versionMessage(magic: string, agent = '/Satoshi:25.0.0/'): Buffer {
  const head = Buffer.alloc(20);
  head.writeInt32LE(70016, 0);
  head.writeBigUInt64LE(0x409n, 4); // NODE_NETWORK | NODE_WITNESS | NODE_NETWORK_LIMITED
  head.writeBigInt64LE(1700000000n, 12);
  const tail = Buffer.alloc(5);
  tail.writeInt32LE(815000, 0);
  tail[4] = 1; // relay
  const payload = Buffer.concat([
    head,
    netAddr([198, 51, 100, 7], 8333),
    netAddr([0, 0, 0, 0], 0),
    Buffer.from('0123456789abcdef', 'hex'), // nonce
    Buffer.from([agent.length]),
    Buffer.from(agent, 'latin1'),
    tail,
  ]);
  const hdr = Buffer.alloc(24);
  Buffer.from(magic, 'hex').copy(hdr, 0);
  hdr.write('version', 4, 'latin1');
  hdr.writeUInt32LE(payload.length, 16);
  createHash('sha256').update(createHash('sha256').update(payload).digest()).digest().copy(hdr, 20, 0, 4);
  return Buffer.concat([hdr, payload]);
}

/** Monero levin COMMAND_HANDSHAKE request (1001) with a portable-storage body. */
function levinHandshake(flags = 1, haveToReturn = 1): Buffer {
  const body = Buffer.concat([
    Buffer.from('011101010101020101', 'hex'), // portable storage signature + version
    Buffer.from('08046e6f64650c', 'hex'),
    Buffer.alloc(40, 0x2a),
  ]);
  const h = Buffer.alloc(33);
  Buffer.from('0121010101010101', 'hex').copy(h, 0);
  h.writeBigUInt64LE(BigInt(body.length), 8);
  h[16] = haveToReturn;
  h.writeUInt32LE(1001, 17);
  h.writeInt32LE(0, 21);
  h.writeUInt32LE(flags, 25);
  h.writeUInt32LE(1, 29);
  return Buffer.concat([h, body]);
}

describe('crypto P2P', () => {
  it('Bitcoin mainnet version message: agent, coin, initiator', () => {
    const c = new Conn(makeFlow({ bPort: 8333 })).send(AB, versionMessage('f9beb4d9'));
    expect(c.flow.findings).toEqual({
      ...newFindings(),
      category: 'crypto-p2p',
      evidence: ['bitcoin-p2p'],
      minerSide: 1,
      agent: '/Satoshi:25.0.0/',
      coin: 'btc',
    });
    expect(c.flow.inspectionDone).toBe(true);
  });

  it.each([
    ['0b110907', 'btc'],
    ['1c163f28', 'btc'],
    ['0a03cf40', 'btc'],
    ['fabfb5da', 'btc'],
    ['fbc0b6db', 'ltc'],
    ['c0c0c0c0', 'doge'],
    ['e3e1f3e8', 'bch'],
  ])('magic %s → %s', (magic, coin) => {
    const c = new Conn().send(BA, versionMessage(magic, '/Satoshi:0.1/'));
    expect(c.flow.findings?.coin).toBe(coin);
    expect(c.flow.findings?.minerSide).toBe(2);
  });

  it('version split at every byte position', () => {
    const msg = versionMessage('f9beb4d9');
    for (let i = 1; i < msg.length; i++) {
      const c = new Conn().sendSplit(AB, msg, [i]);
      expect(c.flow.findings?.agent, `cut at ${i}`).toBe('/Satoshi:25.0.0/');
    }
  });

  it('the responder version (the other side spoke first) has no known initiator without a SYN', () => {
    const c = new Conn().send(AB, 'x').send(BA, versionMessage('f9beb4d9'));
    expect(c.flow.findings?.minerSide).toBe(0);
    const d = new Conn(makeFlow({ synFrom: 2 })).send(AB, versionMessage('f9beb4d9'));
    expect(d.flow.findings?.minerSide).toBe(2);
  });

  it('Monero levin handshake', () => {
    const c = new Conn(makeFlow({ bPort: 18080 })).send(AB, levinHandshake());
    expect(c.flow.findings).toEqual({
      ...newFindings(),
      category: 'crypto-p2p',
      evidence: ['monero-levin'],
      minerSide: 1,
      coin: 'xmr',
    });
  });

  it('levin response (not a handshake request) leaves the initiator unknown', () => {
    const c = new Conn().send(BA, levinHandshake(2, 0));
    expect(c.flow.findings?.evidence).toEqual(['monero-levin']);
    expect(c.flow.findings?.minerSide).toBe(0);
  });

  it('parseP2p answers incomplete / error', () => {
    const v = versionMessage('f9beb4d9');
    expect(parseP2p(v, 0, 10).status).toBe('incomplete');
    expect(parseP2p(v, 0, 30).status).toBe('incomplete');
    const bad = Buffer.from(v);
    bad.write('VERSION', 4, 'latin1');
    expect(parseP2p(bad, 0, bad.length).status).toBe('error');
    const lev = levinHandshake();
    lev.writeUInt32LE(7, 29); // protocol version
    expect(parseP2p(lev, 0, lev.length).status).toBe('error');
  });

  it('a mining category already set (blacklist) is kept', () => {
    const flow = makeFlow({ findings: { ...newFindings(), category: 'mining', evidence: ['blacklist-ip'], minerSide: 1 } });
    new Conn(flow).send(BA, versionMessage('f9beb4d9'));
    expect(flow.findings?.category).toBe('mining');
    expect(flow.findings?.evidence).toEqual(['blacklist-ip', 'bitcoin-p2p']);
    expect(flow.findings?.minerSide).toBe(1);
  });
});

describe('decideMinerSide', () => {
  const ports = DEFAULT_POOL_PORTS;

  it('default pool ports', () => {
    for (const p of [3333, 4444, 5555, 7777, 8888, 9999, 14444, 14433, 45700, 1800, 8008, 9200, 3032, 3256]) {
      expect(ports.has(p), String(p)).toBe(true);
    }
    for (const p of [80, 443, 25]) expect(ports.has(p), String(p)).toBe(false);
  });

  it('1. the protocol', () => {
    const flow = makeFlow({ synFrom: 1 });
    new Conn(flow).send(AB, lines('{"id":null,"method":"mining.set_difficulty","params":[8]}'));
    expect(decideMinerSide(flow, ports)).toEqual({ side: 2, source: 'protocol' });
  });

  it('2. a blacklisted side is the pool', () => {
    expect(decideMinerSide(makeFlow({ blacklistSide: 1, synFrom: 1 }), ports)).toEqual({ side: 2, source: 'blacklist' });
    const f = { ...newFindings(), evidence: ['blacklist-ip' as const], minerSide: 1 as const, blacklistEntry: '198.51.100.7' };
    expect(decideMinerSide(makeFlow({ findings: f, synFrom: 2 }), ports)).toEqual({ side: 1, source: 'blacklist' });
  });

  it('3. the SYN sender', () => {
    expect(decideMinerSide(makeFlow({ synFrom: 2 }), ports)).toEqual({ side: 2, source: 'handshake' });
  });

  it('4. the pool port', () => {
    expect(decideMinerSide(makeFlow({ aPort: 3333, bPort: 51000 }), ports)).toEqual({ side: 2, source: 'port' });
    expect(decideMinerSide(makeFlow({ aPort: 40000, bPort: 4444 }), ports)).toEqual({ side: 1, source: 'port' });
    expect(decideMinerSide(makeFlow({ aPort: 40000, bPort: 5000 }), new Set([5000]))).toEqual({ side: 1, source: 'port' });
  });

  it('5. the higher (ephemeral) port when both or neither are pool ports', () => {
    expect(decideMinerSide(makeFlow({ aPort: 443, bPort: 61000 }), ports)).toEqual({ side: 2, source: 'port' });
    expect(decideMinerSide(makeFlow({ aPort: 3333, bPort: 4444 }), ports)).toEqual({ side: 2, source: 'port' });
  });

  it('6. side A as the last resort', () => {
    expect(decideMinerSide(makeFlow({ aPort: 7000, bPort: 7000 }), ports)).toEqual({ side: 1, source: 'none' });
  });
});
