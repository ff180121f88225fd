import { describe, expect, it } from 'vitest';
import { parseClientHello, TLS_MAX_HELLO, type ClientHelloAnswer } from '../src/rules/tls.js';
import { addEvidence, newFindings, type Findings } from '../src/rules/types.js';
import { rng } from './helpers/read-capture.js';
import { live } from './helpers/names.js';
import { clientHello, serverHello } from './helpers/tls.js';
import { AB, BA, Conn, makeFlow } from './rules-fixtures.js';

const parse = (b: Uint8Array): ClientHelloAnswer => parseClientHello(b, 0, b.length);

describe('parseClientHello', () => {
  it('a TLS 1.3 hello as browsers send it', () => {
    expect(parse(clientHello({ sni: 'eu.pool.example' }))).toEqual({ status: 'ok', sni: 'eu.pool.example' });
  });

  it('a TLS 1.2 hello, server_name after the other extensions', () => {
    expect(parse(clientHello({ flavor: 'tls12', sni: 'pool.example', sniLast: true }))).toEqual({ status: 'ok', sni: 'pool.example' });
  });

  it('upper case becomes lower case', () => {
    expect(parse(clientHello({ sni: 'Pool.EXAMPLE' }))).toEqual({ status: 'ok', sni: 'pool.example' });
  });

  it('no server_name, or no extensions at all: ok, no name', () => {
    expect(parse(clientHello({ sni: null }))).toEqual({ status: 'ok', sni: null });
    expect(parse(clientHello({ flavor: 'tls12', noExtensions: true }))).toEqual({ status: 'ok', sni: null });
  });

  it('a host_name that is not a host name is no name', () => {
    expect(parse(clientHello({ sni: 'pool.example\x00.evil' }))).toEqual({ status: 'ok', sni: null });
    expect(parse(clientHello({ sni: 'pool example' }))).toEqual({ status: 'ok', sni: null });
  });

  it('a hello cut into several records is put back together', () => {
    const h = clientHello({ sni: 'pool.example', sniLast: true, recordSize: 50 });
    expect(h.length).toBeGreaterThan(5 * 5 + 200);
    expect(parse(h)).toEqual({ status: 'ok', sni: 'pool.example' });
  });

  it('every prefix is incomplete, asking for more than it has, and never more than the whole', () => {
    for (const h of [clientHello({ sni: 'pool.example' }), clientHello({ sni: 'pool.example', sniLast: true, recordSize: 64 })]) {
      for (let n = 0; n < h.length; n++) {
        const a = parseClientHello(h, 0, n);
        expect(a.status, `prefix ${n}`).toBe('incomplete');
        if (a.status === 'incomplete') {
          expect(a.needed).toBeGreaterThan(n);
          expect(a.needed).toBeLessThanOrEqual(h.length);
        }
      }
    }
  });

  it('not a ClientHello: ServerHello, application data, alerts, SSLv2, text', () => {
    expect(parse(serverHello())).toEqual({ status: 'error' });
    expect(parse(Buffer.from('1703030020' + 'aa'.repeat(32), 'hex'))).toEqual({ status: 'error' });
    expect(parse(Buffer.from('15030300020228', 'hex'))).toEqual({ status: 'error' });
    expect(parse(Buffer.from('802b0103010012000000100000', 'hex'))).toEqual({ status: 'error' });
    expect(parse(Buffer.from('GET / HTTP/1.1\r\n'))).toEqual({ status: 'error' });
  });

  it('a record over 2^14 bytes, or a hello over the bound, is refused without waiting for it', () => {
    expect(parse(Buffer.from('1603014001' + '01', 'hex'))).toEqual({ status: 'error' });
    expect(parse(clientHello({ sni: 'pool.example', padding: TLS_MAX_HELLO }))).toEqual({ status: 'error' });
    expect(parse(Buffer.from('1603010200' + '01ffffff', 'hex'))).toEqual({ status: 'error' });
  });

  it('hostile lengths: every length field set to hostile values never throws and never reads past the end', () => {
    const h = clientHello({ sni: 'pool.example', sniLast: true });
    const r = rng(443);
    for (let i = 0; i < 20_000; i++) {
      const m = Buffer.from(h);
      const at = 5 + Math.floor(r() * (m.length - 5));
      const pick = r();
      m[at] = pick < 0.3 ? 0xff : pick < 0.6 ? 0 : Math.floor(r() * 256);
      if (r() < 0.5) m[at + 1 < m.length ? at + 1 : at] = Math.floor(r() * 256);
      const cut = r() < 0.3 ? Math.floor(r() * m.length) : m.length;
      // The same bytes followed by different garbage: a read past `cut` would show as a difference.
      const a = Buffer.concat([m.subarray(0, cut), Buffer.alloc(64, 0x00)]);
      const b = Buffer.concat([m.subarray(0, cut), Buffer.alloc(64, 0xff)]);
      let x: ClientHelloAnswer | undefined;
      expect(() => (x = parseClientHello(a, 0, cut))).not.toThrow();
      expect(parseClientHello(b, 0, cut)).toEqual(x);
    }
  });

  it('random garbage after a handshake record header', () => {
    const r = rng(7);
    for (let i = 0; i < 5_000; i++) {
      const n = 5 + Math.floor(r() * 600);
      const b = Buffer.alloc(n);
      for (let j = 0; j < n; j++) b[j] = Math.floor(r() * 256);
      b[0] = 22;
      b[1] = 3;
      b[2] = 1;
      b[5] = 1;
      expect(() => parseClientHello(b, 0, n)).not.toThrow();
    }
  });
});

describe('SNI through the flow inspection', () => {
  const names = live({ domains: ['pool.example', 'stratum.example:3333'], version: 4 });

  it('a listed name: evidence sni, the entry and its version, the host, the client as the miner, inspection done', () => {
    const c = new Conn(makeFlow({ bPort: 443, synFrom: 1 }), names).send(AB, clientHello({ sni: 'xmr.eu.pool.example' }));
    expect(c.flow.findings).toMatchObject({
      category: 'mining',
      evidence: ['sni'],
      blacklistEntry: 'pool.example',
      blacklistVersion: 4,
      poolHost: 'xmr.eu.pool.example',
      minerSide: 1,
    });
    expect(c.flow.inspectionDone).toBe(true);
    expect(c.flow.inspector).toBeNull();
  });

  it('the client may be side B (the tap saw the server first)', () => {
    const c = new Conn(makeFlow({ aPort: 443, bPort: 50000 }), names).send(BA, clientHello({ sni: 'pool.example' }));
    expect(c.flow.findings).toMatchObject({ evidence: ['sni'], minerSide: 2 });
  });

  it('split into two segments at every byte', () => {
    const h = clientHello({ sni: 'pool.example', sniLast: true });
    for (let cut = 1; cut < h.length; cut++) {
      const c = new Conn(makeFlow({ bPort: 443 }), names).sendSplit(AB, h, [cut]);
      expect(c.flow.findings?.evidence, `cut at ${cut}`).toEqual(['sni']);
      expect(c.flow.inspectionDone).toBe(true);
    }
  });

  it('one byte a segment, and records cut small, spread over segments', () => {
    const h = clientHello({ sni: 'pool.example', sniLast: true, recordSize: 33 });
    const c = new Conn(makeFlow({ bPort: 443 }), names).sendSplit(AB, h, Array.from({ length: h.length }, (_, i) => i));
    expect(c.flow.findings?.poolHost).toBe('pool.example');
  });

  it('the domain entry ports are the server port', () => {
    const on = new Conn(makeFlow({ bPort: 3333 }), names).send(AB, clientHello({ sni: 'stratum.example' }));
    expect(on.flow.findings?.blacklistEntry).toBe('stratum.example:3333');
    const off = new Conn(makeFlow({ bPort: 443 }), names).send(AB, clientHello({ sni: 'stratum.example' }));
    expect(off.flow.findings).toBeNull();
  });

  it('an unlisted name, or none: no findings, inspection done at once', () => {
    for (const sni of ['www.example.com', 'example', null]) {
      const c = new Conn(makeFlow({ bPort: 443 }), names).send(AB, clientHello({ sni }));
      expect(c.flow.findings).toBeNull();
      expect(c.flow.inspectionDone).toBe(true);
    }
  });

  it('a hello over the bound is given up; nothing kept', () => {
    const h = clientHello({ sni: 'pool.example', sniLast: true, padding: 20_000, recordSize: 1 << 14 });
    const c = new Conn(makeFlow({ bPort: 443 }), names);
    for (let i = 0; i < h.length && !c.flow.inspectionDone; i += 1460) c.send(AB, h.subarray(i, i + 1460));
    expect(c.flow.inspectionDone).toBe(true);
    expect(c.flow.findings).toBeNull();
  });

  it('a lost segment in the middle of the hello ends the attempt without a crash', () => {
    const h = clientHello({ sni: 'pool.example', sniLast: true });
    const c = new Conn(makeFlow({ bPort: 443 }), names).send(AB, h.subarray(0, 100)).lose(AB, 50).send(AB, h.subarray(150));
    expect(c.flow.findings).toBeNull();
  });

  it('the server speaking first (ServerHello) ends inspection as before', () => {
    const c = new Conn(makeFlow({ bPort: 443 }), names).send(BA, serverHello());
    expect(c.flow.inspectionDone).toBe(true);
    expect(c.flow.findings).toBeNull();
  });

  it('without listed names, TLS ends inspection at the first segment, as it always did', () => {
    const h = clientHello({ sni: 'pool.example' });
    const c = new Conn(makeFlow({ bPort: 443 }), live()).send(AB, h.subarray(0, 40));
    expect(c.flow.inspectionDone).toBe(true);
    expect(c.flow.findings).toBeNull();
  });

  it('a listed SNI after a blacklisted address keeps the address entry, adds the evidence', () => {
    const flow = makeFlow({ bPort: 443, blacklistSide: 2 });
    flow.findings = newFindingsWith('203.0.113.7');
    const c = new Conn(flow, names).send(AB, clientHello({ sni: 'pool.example' }));
    expect(c.flow.findings).toMatchObject({ evidence: ['blacklist-ip', 'sni'], blacklistEntry: '203.0.113.7', poolHost: 'pool.example' });
  });
});

/** Findings as the pipeline leaves them when the far end's address is blacklisted. */
function newFindingsWith(entry: string): Findings {
  const f = newFindings();
  f.blacklistEntry = entry;
  f.category = 'mining';
  addEvidence(f, 'blacklist-ip');
  return f;
}
