/**
 * What the fuzz harness (test/fuzz/, `npm run fuzz`) found, one test per finding, each with the
 * minimal input it shrank to (bytes as hex; where the input is long, its fixed parts as hex and
 * the length that matters as a count). Every one of these failed before its fix.
 */
import { describe, expect, it } from 'vitest';
import { FlowDecoder } from '../src/capture/netflow/decoder.js';
import type { FlowRecord } from '../src/capture/netflow/types.js';
import { NfdumpCsvReader, type CsvProblem } from '../src/capture/nfdump-csv.js';
import { PoolwatchError } from '../src/errors.js';
import { OrgMap, parseOrgYaml } from '../src/report/orgs.js';
import { answerAddresses, learnFromDns, MAX_CHAIN, parseDns } from '../src/rules/dns.js';
import { feedLines, newLineStream } from '../src/rules/framing.js';
import { httpMining } from '../src/rules/http.js';
import { feedHttp, HTTP_MAX_HEAD, newHttpStream, parseHttpHead, type HttpHead } from '../src/rules/http-stream.js';
import { parseJsonRpc } from '../src/rules/jsonrpc.js';
import { newSession } from '../src/rules/session.js';
import { dnsMessage, type DnsRR } from './helpers/dns.js';
import { expectLinear } from './fuzz/linear.js';

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

describe('fuzz findings', () => {
  it('JSON lines (framing.ts): a line ending CR CR LF, cut between the two CRs, lost both CRs instead of one', () => {
    const lines = (segs: Buffer[]) => {
      const out: string[] = [];
      const ls = newLineStream();
      for (const s of segs) feedLines(ls, s, (acc: string[], b, st, e) => acc.push(b.toString('hex', st, e)), out);
      return out;
    };
    expect(lines([hex('0d0d0a')])).toEqual(['0d']);
    expect(lines([hex('0d'), hex('0d0a')])).toEqual(['0d']);
    // The CR of a CRLF cut between CR and LF is still dropped.
    expect(lines([hex('7b7d0d'), hex('0a')])).toEqual(['7b7d']);
  });

  it('HTTP (http-stream.ts): a head of 8190 bytes cut 1-3 bytes into its final CRLF CRLF was refused as over-long (framing lost)', () => {
    // "GET / HTTP/1.1\r\nX-Pad: " + 8167 x "a" + "\r\n\r\n": the CRLF CRLF starts at 8190 <= HTTP_MAX_HEAD.
    const head = Buffer.concat([hex('474554202f20485454502f312e310d0a582d5061643a20'), Buffer.alloc(8167, 'a'), hex('0d0a0d0a')]);
    expect(head.indexOf('\r\n\r\n')).toBe(8190);
    expect(8190).toBeLessThanOrEqual(HTTP_MAX_HEAD);
    for (const cut of [8191, 8192, 8193]) {
      expect(parseHttpHead(head, 0, cut).status).toBe('incomplete');
      const hs = newHttpStream();
      const heads: HttpHead[] = [];
      feedHttp(hs, head.subarray(0, cut), (acc: HttpHead[], h) => acc.push(h), heads);
      feedHttp(hs, head.subarray(cut), (acc: HttpHead[], h) => acc.push(h), heads);
      expect(heads.map((h) => h.method)).toEqual(['GET']);
    }
    expect(parseHttpHead(head, 0, head.length).status).toBe('ok');
    // Three bytes more (CRLF CRLF at 8193) and the head is over the limit, however it is cut.
    const over = Buffer.concat([head.subarray(0, 23), Buffer.from('aaa'), head.subarray(23)]);
    expect(parseHttpHead(over, 0, over.length).status).toBe('error');
    expect(parseHttpHead(over, 0, 8196).status).toBe('error');
  });

  it('HTTP mining (http.ts): a monerod get_block_template answer with difficulty 0, -1 or 1e999 (Infinity) became the flow difficulty', () => {
    const head = parseHttpHead(hex('485454502f312e3120323030204f4b0d0a436f6e74656e742d547970653a206170706c69636174696f6e2f6a736f6e0d0a0d0a'), 0, 51);
    expect(head.status).toBe('ok');
    // {"id":"0","result":{"blocktemplate_blob":"0e0e…","difficulty": + value + }}
    const prefix = hex(
      '7b226964223a2230222c22726573756c74223a7b22626c6f636b74656d706c6174655f626c6f62223a22306530653065306530653065306530653065306530653065306530653065306530653065306530653065306530653065306530653065306530653065306530653065306530653065306530653065306530653065222c22646966666963756c7479223a',
    );
    const difficulty = (v: string) => {
      const body = Buffer.concat([prefix, Buffer.from(v), hex('7d7d')]);
      const r = httpMining((head as { head: HttpHead }).head, parseJsonRpc(body, 0, body.length), 1, newSession());
      expect(r?.evidence).toBe('http-mining');
      return r!.difficulty;
    };
    expect(difficulty('0')).toBeNull();
    expect(difficulty('-1')).toBeNull();
    expect(difficulty('1e999')).toBeNull();
    expect(difficulty('123456')).toBe(123456);
  });

  it('DNS (dns.ts): an answer with a long CNAME chain and many addresses took cubic time (38 KB: 13 s) in answerAddresses', () => {
    // Semantics kept: question c2.x, CNAME c2.x → c1.x (ttl 300), c1.x → c0.x (ttl 60), A c0.x 10.0.0.1 (ttl 3600).
    const small = hex(`
      4242 8180 0001 0003 0000 0000  02633201780000010001
      026332017800 0005 0001 0000012c 0006 026331017800
      026331017800 0005 0001 0000003c 0006 026330017800
      026330017800 0001 0001 00000e10 0004 0a000001`);
    const m = parseDns(small, 0, small.length)!;
    expect(answerAddresses(m).map((a) => ({ ...a, addr: [...a.addr] }))).toEqual([{ addr: [10, 0, 0, 1], ipVersion: 4, ttl: 60, names: ['c0.x', 'c1.x', 'c2.x'] }]);
    // The shape that blew up: K chained CNAMEs, then K addresses of the chain's end.
    const chain = (k: number) => {
      const answers: DnsRR[] = [];
      for (let i = k; i >= 1; i--) answers.push({ name: `c${i}.x`, type: 'CNAME', data: `c${i - 1}.x` });
      for (let i = 0; i < k; i++) answers.push({ name: 'c0.x', type: 'A', data: `10.0.${i >> 8}.${i & 255}` });
      return Buffer.from(dnsMessage({ questions: [{ name: `c${k}.x` }], answers }));
    };
    const big = chain(1000);
    const addrs = answerAddresses(parseDns(big, 0, big.length)!);
    expect(addrs).toHaveLength(1000);
    expect(addrs[0]!.names).toHaveLength(MAX_CHAIN);
    const taught: string[] = [];
    const list = { hasNames: true, learn: (name: string) => (taught.push(name), false) };
    expect(learnFromDns(big, 0, big.length, false, list, 0)).toBe(0);
    expect(taught.length).toBeLessThanOrEqual(1000 * MAX_CHAIN);
    const s = chain(100);
    expectLinear({ small: s, big, smallSize: s.length, bigSize: big.length }, (b) => learnFromDns(b, 0, b.length, false, list, 0), 'CNAME chain');
  });

  it('NetFlow v9 (fields.ts): a template giving sourceTransportPort 4 bytes handed out a port above 65535', () => {
    // v9 header; template 256 = srcaddr(4) dstaddr(4) srcport(4!); one record with srcport 0x00010d05.
    const d = hex(`
      0009 0002 000186a0 6553f100 00000001 00000001
      0000 0014 0100 0003 0008 0004 000c 0004 0007 0004
      0100 0010 0a000001 c0000201 00010d05`);
    const recs: FlowRecord[] = [];
    const r = new FlowDecoder().decode(d, 0, d.length, '192.0.2.1', 0, (x) => recs.push(x));
    expect(r.error).toBeNull();
    expect(recs).toHaveLength(1);
    expect([...recs[0]!.src, ...recs[0]!.dst]).toEqual([10, 0, 0, 1, 192, 0, 2, 1]);
    // The over-wide field is skipped like any field whose length does not fit its type.
    expect(recs[0]!.srcPort).toBe(0);
  });

  it('nfdump CSV (nfdump-csv.ts): an nfcapd binary file read in a 1-byte first chunk was not recognised (read as garbage lines)', () => {
    const file = hex('0ca50100' + '62696e617279206e6663617064'.padEnd(128, '0'));
    for (const first of [file.length, 1]) {
      const bad: CsvProblem[] = [];
      const r = new NfdumpCsvReader(() => {}, (p) => bad.push(p));
      r.push(file.subarray(0, first));
      r.push(file.subarray(first));
      expect(r.end().notCsv).toMatch(/nfdump binary file/);
      expect(bad).toEqual([]);
    }
    // A one-byte input is still read (as one line).
    const one = new NfdumpCsvReader(() => {}, () => {});
    one.push(hex('0a'));
    expect(one.end()).toMatchObject({ lines: 1, skipped: 1 });
  });

  it('nfdump CSV (nfdump-csv.ts): the excerpt of an over-long line ended in "…" only when the line came in several chunks', () => {
    const input = Buffer.concat([Buffer.alloc(65_537, 0x2c), hex('0a')]);
    const excerpt = (size: number) => {
      const bad: CsvProblem[] = [];
      const r = new NfdumpCsvReader(() => {}, (p) => bad.push(p));
      for (let i = 0; i < input.length; i += size) r.push(input.subarray(i, i + size));
      r.end();
      return bad.map((p) => p.text);
    };
    expect(excerpt(input.length)).toEqual(excerpt(1000));
    expect(excerpt(input.length)[0]!.endsWith('…')).toBe(true);
  });

  it('organisations YAML (orgs.ts): an alias to an anchor never set threw a ReferenceError instead of PW_ERR_USAGE', () => {
    // "- name: A\n  ranges: [*x]\n"
    const text = hex('2d206e616d653a20410a202072616e6765733a205b2a785d0a').toString('latin1');
    expect(() => parseOrgYaml(text, 'orgs.yaml', new OrgMap())).toThrow(PoolwatchError);
    try {
      parseOrgYaml(text, 'orgs.yaml', new OrgMap());
    } catch (e) {
      expect((e as PoolwatchError).code).toBe('PW_ERR_USAGE');
      expect((e as PoolwatchError).context.file).toBe('orgs.yaml');
    }
    // Too many aliases (a "billion laughs" file) is the same kind of refusal.
    const laughs = `- name: A\n  ranges: &r [192.0.2.0/24]\n  contact: [${Array.from({ length: 200 }, () => '*r').join(', ')}]\n`;
    expect(() => parseOrgYaml(laughs, 'orgs.yaml', new OrgMap())).toThrow(expect.objectContaining({ code: 'PW_ERR_USAGE' }));
  });

  it('organisations YAML (orgs.ts): a name of blanks was accepted as an organisation named ""', () => {
    // "- name: \" \"\n  ranges: [192.0.2.0/24]\n"
    const text = hex('2d206e616d653a202220220a202072616e6765733a205b3139322e302e322e302f32345d0a').toString('latin1');
    expect(() => parseOrgYaml(text, 'orgs.yaml', new OrgMap())).toThrow(/has no name/);
    // A blank sector is no sector, as an empty CSV cell.
    const map = new OrgMap();
    parseOrgYaml('- name: A\n  sector: "  "\n  ranges: [192.0.2.0/24]\n', 'orgs.yaml', map);
    expect(map.organisations()).toEqual([{ name: 'A', sector: null, contact: null }]);
  });
});
