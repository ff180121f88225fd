import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { NfdumpCsvReader, NFDUMP_CSV_HEADER, parseAddress, parseTime, type CsvProblem } from '../src/capture/nfdump-csv.js';
import type { FlowRecord } from '../src/capture/netflow/types.js';
import { parseIPv6Bytes } from '../src/blacklist/addr.js';
import { cli, fixture, logLines } from './helpers/cli.js';
import { RECORDED_NFDUMP_CSV } from './helpers/softflowd.js';

function read(text: string | Buffer, chunk = 0) {
  const records: FlowRecord[] = [];
  const bad: CsvProblem[] = [];
  const r = new NfdumpCsvReader((x) => records.push(x), (p) => bad.push(p));
  const buf = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  if (chunk > 0) for (let i = 0; i < buf.length; i += chunk) r.push(buf.subarray(i, i + chunk));
  else r.push(buf);
  return { records, bad, stats: r.end() };
}

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'pw-csv-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const ndjson = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l));

/** A line in nfdump 1.7's layout with the given fields; the rest as nfdump prints them. */
function line(o: { ts?: string; te?: string; sa: string; da: string; sp?: string; dp?: string; pr?: string; flg?: string; ipkt?: string; ibyt?: string; opkt?: string; obyt?: string }): string {
  const cols = NFDUMP_CSV_HEADER.split(',');
  const v: Record<string, string> = {
    ts: '2024-03-01 08:00:00', te: '2024-03-01 08:00:10', td: '10.000', sp: '1000', dp: '2000', pr: 'TCP', flg: '...AP.SF',
    ipkt: '1', ibyt: '100', opkt: '0', obyt: '0', ra: '127.0.0.1', eng: '0/0', ...o,
  };
  return cols.map((c) => v[c] ?? '0').join(',');
}

describe('nfdump -o csv reader', () => {
  it('reads what nfdump 1.7 printed: every record, totals equal to its own summary, summary skipped', () => {
    for (const chunk of [0, 1, 7, 333]) {
      const { records, bad, stats } = read(RECORDED_NFDUMP_CSV, chunk);
      expect(bad).toEqual([]);
      // nfdump's own summary line: 15 flows, 7859 bytes, 87 packets.
      expect(records).toHaveLength(15);
      expect(records.reduce((n, r) => n + r.bytes, 0)).toBe(7859);
      expect(records.reduce((n, r) => n + r.packets, 0)).toBe(87);
      expect(stats).toMatchObject({ lines: 19, records: 15, bad: 0, headers: 1, skipped: 3, notCsv: null, assumedHeader: false });
    }
    const { records } = read(RECORDED_NFDUMP_CSV);
    const xmr = records.find((r) => r.dstPort === 14444)!;
    expect(xmr).toMatchObject({ exporter: 'nfdump', version: 0, ipVersion: 4, srcPort: 41000, proto: 6, tcpFlags: 0x1b, packets: 7, bytes: 804, samplingRate: 1, nat: null, domain: 0 });
    expect([...xmr.src]).toEqual([10, 20, 30, 50]);
    expect([...xmr.dst]).toEqual([203, 0, 113, 77]);
    expect(records.find((r) => r.proto === 17)).toMatchObject({ srcPort: 53001, dstPort: 53, tcpFlags: 0, packets: 1, bytes: 61 });
  });

  it('reads times in the local zone as nfdump writes them; ISO with a zone and epoch seconds too', () => {
    const local = new Date(2024, 2, 1, 8, 0, 0).getTime();
    expect(parseTime('2024-03-01 08:00:00')).toBe(local);
    expect(parseTime('2024-03-01 08:00:00.250')).toBe(local + 250);
    expect(parseTime('2024-03-01T08:00:00.250Z')).toBe(Date.UTC(2024, 2, 1, 8, 0, 0, 250));
    expect(parseTime('2024-03-01T09:00:00+01:00')).toBe(Date.UTC(2024, 2, 1, 8, 0, 0));
    expect(parseTime('1709280000.5')).toBe(1709280000500);
    expect(parseTime('2024-13-01 08:00:00')).toBeNull();
    expect(parseTime('yesterday')).toBeNull();
  });

  it('parses addresses like the list parser does, IPv6 in every form', () => {
    for (const s of ['2001:db8::1', '::', '::1', 'fe80::', '2001:db8:0:0:0:0:2:1', '::ffff:192.0.2.1', '64:ff9b::192.0.2.33', '1:2:3:4:5:6:7:8', 'ABCD::ef']) {
      expect([...parseAddress(s)!], s).toEqual([...parseIPv6Bytes(s)!]);
    }
    for (const s of ['1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', '1.2.3', '1.2.3.256', 'x', '', '1:2:3:4:5:6:7']) expect(parseAddress(s), s).toBeNull();
    expect([...parseAddress('192.0.2.1')!]).toEqual([192, 0, 2, 1]);
  });

  it('takes IPv6, protocol names and numbers, ICMP type.code, and the reverse counters of a bidirectional record', () => {
    const text = [
      NFDUMP_CSV_HEADER,
      line({ sa: '2001:db8:1::50', da: '2001:db8:ff::77', sp: '41000', dp: '14444', ipkt: '9', ibyt: '900' }),
      line({ sa: '10.0.0.1', da: '192.0.2.9', sp: '0', dp: '3.3', pr: 'ICMP', flg: '........' }),
      line({ sa: '10.0.0.1', da: '192.0.2.9', sp: '0', dp: '0', pr: '47', flg: '........' }),
      line({ sa: '10.0.0.1', da: '192.0.2.9', pr: 'ICMP6' }),
      line({ sa: '10.0.0.2', da: '203.0.113.7', sp: '50000', dp: '3333', ipkt: '10', ibyt: '1000', opkt: '8', obyt: '2000' }),
    ].join('\r\n');
    const { records, bad } = read(text);
    expect(bad).toEqual([]);
    expect(records.map((r) => [r.ipVersion, r.proto, r.srcPort, r.dstPort, r.packets, r.bytes])).toEqual([
      [6, 6, 41000, 14444, 9, 900],
      [4, 1, 0, 3 * 256 + 3, 1, 100],
      [4, 47, 0, 0, 1, 100],
      [4, 58, 1000, 2000, 1, 100],
      [4, 6, 50000, 3333, 10, 1000],
      // the answer, pool → customer
      [4, 6, 3333, 50000, 8, 2000],
    ]);
    expect([...records[5]!.src]).toEqual([203, 0, 113, 7]);
    expect(records[0]!.end - records[0]!.start).toBe(10_000);
  });

  it('without a header (nfdump -q) assumes the standard columns; several outputs concatenated each keep their header', () => {
    const body = RECORDED_NFDUMP_CSV.split('\n').slice(1, 16).join('\n');
    const q = read(body + '\n');
    expect(q.stats.assumedHeader).toBe(true);
    expect(q.records).toHaveLength(15);
    expect(q.bad).toEqual([]);
    const twice = read(RECORDED_NFDUMP_CSV + 'No matching flows\n' + RECORDED_NFDUMP_CSV);
    expect(twice.bad).toEqual([]);
    expect(twice.records).toHaveLength(30);
    expect(twice.stats.headers).toBe(2);
  });

  it('reports bad lines with their numbers and reads the rest', () => {
    const lines = RECORDED_NFDUMP_CSV.split('\n');
    lines.splice(3, 0, '2024-03-01 08:00:00,2024-03-01 08:00:00,0.1,10.0.0.999,1.2.3.4,1,2,TCP,........,0,0,1,1');
    lines.splice(5, 0, 'garbage in the middle');
    lines.splice(6, 0, line({ sa: '10.0.0.1', da: '10.0.0.2', ibyt: '1.2 M' }));
    lines.splice(7, 0, line({ sa: '10.0.0.1', da: '10.0.0.2', pr: 'NOSUCH' }));
    lines.splice(8, 0, '2024-03-01 08:00:00,short');
    const { records, bad, stats } = read(lines.join('\n'));
    expect(records).toHaveLength(15);
    expect(bad.map((b) => [b.line, b.reason])).toEqual([
      [4, 'bad source address "10.0.0.999"'],
      [6, 'neither a flow record nor an nfdump header or summary line'],
      [7, 'bad byte count "1.2 M"'],
      [8, 'unknown protocol "NOSUCH"'],
      [9, '2 fields, the header has 48'],
    ]);
    expect(stats.bad).toBe(5);
  });

  it('a line longer than 64 KiB is one bad line and costs no memory; an nfcapd binary file is refused', () => {
    const long = '2024-03-01 08:00:00,' + 'x'.repeat(200_000);
    const r = read(NFDUMP_CSV_HEADER + '\n' + long + '\n' + RECORDED_NFDUMP_CSV.split('\n')[1] + '\n', 4096);
    expect(r.records).toHaveLength(1);
    expect(r.bad).toHaveLength(1);
    expect(r.bad[0]!.line).toBe(2);
    expect(r.bad[0]!.text.length).toBeLessThan(300);
    const bin = read(Buffer.from('0ca50200000107013c72056b00000000', 'hex'));
    expect(bin.stats.notCsv).toMatch(/nfdump binary file/);
    expect(bin.records).toHaveLength(0);
  });
});

describe('poolwatch flows (nfdump CSV)', () => {
  it('--dump-flows prints every record as nfdump has it; no report on stdout', () => {
    const dir = tmp();
    const csv = join(dir, 'flows.csv');
    writeFileSync(csv, RECORDED_NFDUMP_CSV);
    const r = cli(['flows', '--dump-flows', csv], { env: { TZ: 'UTC' } });
    expect(r.code, r.stderr).toBe(0);
    const dump = ndjson(r.stdout);
    expect(dump).toHaveLength(15);
    expect(dump[2]).toEqual({
      exporter: 'nfdump',
      version: 0,
      src: '10.20.30.50',
      dst: '203.0.113.77',
      srcPort: 41000,
      dstPort: 14444,
      proto: 6,
      bytes: 804,
      packets: 7,
      samplingRate: 1,
      start: '2024-03-01T08:00:01.000Z',
      end: '2024-03-01T08:00:01.000Z',
    });
    // Another zone on both sides of the pipe reads the same instants differently, as nfdump would have written them.
    const berlin = ndjson(cli(['flows', '--dump-flows', csv], { env: { TZ: 'Europe/Berlin' } }).stdout);
    expect(berlin[2].start).toBe('2024-03-01T07:00:01.000Z');
    const fin = logLines(r.stderr).find((l) => l.msg === 'flows finished')!;
    expect(fin).toMatchObject({ lines: 19, records: 15, badLines: 0, dumped: 15 });
  });

  it('records the miners whose pools are listed, evidence blacklist-ip, input kind nfdump, from standard input', () => {
    const dir = tmp();
    const db = join(dir, 'hits.db');
    const r = cli(['flows', '--db', db, '-b', fixture('pools.txt'), '-f', 'json', '-'], { input: RECORDED_NFDUMP_CSV, env: { TZ: 'UTC' } });
    expect(r.code, r.stderr).toBe(0);
    const recs = JSON.parse(r.stdout);
    expect(recs.map((x: any) => x.src).sort()).toEqual(['10.20.30.50', '10.20.30.95']);
    const xmr = recs.find((x: any) => x.src === '10.20.30.50');
    expect(xmr).toMatchObject({ category: 'mining', evidence: ['blacklist-ip'], pools: [{ ip: '203.0.113.77', port: 14444 }], packets: 12, bytes: 804 + 990 });
    const rows = new Database(db, { readonly: true }).prepare('SELECT src, pool_ip, pool_port, input_kind, input, bytes_up, bytes_down FROM hits ORDER BY src').all();
    expect(rows).toEqual([
      { src: '10.20.30.50', pool_ip: '203.0.113.77', pool_port: 14444, input_kind: 'nfdump', input: '-', bytes_up: 804, bytes_down: 990 },
      { src: '10.20.30.95', pool_ip: '198.51.100.99', pool_port: 5555, input_kind: 'nfdump', input: '-', bytes_up: 249, bytes_down: 169 },
    ]);
  });

  it('bad lines: logged with line numbers, exit 1, the rest recorded', () => {
    const lines = RECORDED_NFDUMP_CSV.split('\n');
    lines.splice(2, 0, 'this is not csv');
    const r = cli(['flows', '-b', fixture('pools.txt'), '-f', 'ndjson', '-'], { input: lines.join('\n') });
    expect(r.code).toBe(1);
    const warn = logLines(r.stderr).find((l) => l.line === 3)!;
    expect(warn.msg).toBe('-, line 3: neither a flow record nor an nfdump header or summary line');
    expect(ndjson(r.stdout)).toHaveLength(2);
  });

  it('an nfcapd binary file is exit 1 with what to do; a missing file is exit 2', () => {
    const dir = tmp();
    const bin = join(dir, 'nfcapd.202403010800');
    writeFileSync(bin, Buffer.from('0ca50200000107013c72056b0000000000000000', 'hex'));
    const r = cli(['flows', '-q', bin]);
    expect(r.code).toBe(1);
    expect(logLines(r.stderr).find((l) => l.level >= 50)!.msg).toMatch(/nfdump -r FILE -o csv/);
    expect(cli(['flows', join(dir, 'missing.csv')]).code).toBe(2);
  });
});
