import { describe, expect, it } from 'vitest';
import { feedLines, MAX_LINE, newLineStream, parseLine, resetLineStream } from '../src/rules/framing.js';
import { looksLikeJsonRpc, parseJsonRpc } from '../src/rules/jsonrpc.js';

function collect(chunks: Buffer[], maxLine = MAX_LINE): { lines: string[]; cap: number } {
  const ls = newLineStream();
  const out: string[] = [];
  let cap = 0;
  for (const c of chunks) {
    feedLines(ls, c, (acc: string[], b, s, e) => acc.push(b.toString('latin1', s, e)), out, maxLine);
    cap = Math.max(cap, ls.buf?.length ?? 0);
  }
  return { lines: out, cap };
}

describe('parseLine', () => {
  const b = Buffer.from('{"a":1}\r\n{"b":2}\npartial');
  it('ok: one line, CR stripped, newline consumed', () => {
    expect(parseLine(b, 0, b.length, 100)).toEqual({ status: 'ok', end: 7, consumed: 9 });
    expect(parseLine(b, 9, b.length, 100)).toEqual({ status: 'ok', end: 16, consumed: 8 });
  });
  it('incomplete: no newline yet', () => {
    expect(parseLine(b, 17, b.length, 100)).toEqual({ status: 'incomplete', consumed: 0, needed: 1 });
  });
  it('error: longer than the bound, with or without its newline', () => {
    expect(parseLine(b, 0, b.length, 5)).toEqual({ status: 'error', consumed: 9, lineEnded: true });
    expect(parseLine(b, 17, b.length, 5)).toEqual({ status: 'error', consumed: 7, lineEnded: false });
  });
});

describe('feedLines', () => {
  const text = '{"id":1,"method":"mining.subscribe","params":["cgminer/4.10.0"]}\n{"id":2,"result":true}\r\n';
  const expected = ['{"id":1,"method":"mining.subscribe","params":["cgminer/4.10.0"]}', '{"id":2,"result":true}'];

  it('several messages in one segment', () => {
    expect(collect([Buffer.from(text)]).lines).toEqual(expected);
  });

  it('split in two at every byte position', () => {
    const all = Buffer.from(text);
    for (let i = 1; i < all.length; i++) {
      const got = collect([all.subarray(0, i), all.subarray(i)]).lines;
      expect(got, `cut at ${i}`).toEqual(expected);
    }
  });

  it('one byte per segment', () => {
    const all = Buffer.from(text);
    const chunks = [...all].map((_, i) => all.subarray(i, i + 1));
    expect(collect(chunks).lines).toEqual(expected);
  });

  it('a line longer than the bound is dropped and memory stays bounded', () => {
    const long = Buffer.alloc(100_000, 0x61);
    const chunks: Buffer[] = [Buffer.from('{"x":"')];
    for (let p = 0; p < long.length; p += 1460) chunks.push(long.subarray(p, p + 1460));
    chunks.push(Buffer.from('"}\n{"id":9,"result":true}\n'));
    const { lines, cap } = collect(chunks, 4096);
    expect(lines).toEqual(['{"id":9,"result":true}']);
    expect(cap).toBeLessThanOrEqual(4096);
  });

  it('an over-long line inside one segment is skipped, the next line kept', () => {
    const seg = Buffer.concat([Buffer.alloc(5000, 0x62), Buffer.from('\n{"ok":1}\n')]);
    expect(collect([seg], 4096).lines).toEqual(['{"ok":1}']);
  });

  it('reset drops the partial line', () => {
    const ls = newLineStream();
    const out: string[] = [];
    const h = (acc: string[], b: Buffer, s: number, e: number) => acc.push(b.toString('latin1', s, e));
    feedLines(ls, Buffer.from('{"id":1,"meth'), h, out);
    resetLineStream(ls);
    feedLines(ls, Buffer.from('{"id":2}\n'), h, out);
    expect(out).toEqual(['{"id":2}']);
  });
});

describe('JSON-RPC prefilter', () => {
  const p = (s: string) => parseJsonRpc(Buffer.from(s), 0, s.length);
  it('needs { first and a JSON-RPC key', () => {
    expect(looksLikeJsonRpc(Buffer.from('  {"method":"x"}'), 0, 16)).toBe(2);
    expect(looksLikeJsonRpc(Buffer.from('["method"]'), 0, 10)).toBe(-1);
    expect(looksLikeJsonRpc(Buffer.from('{"name":"x"}'), 0, 12)).toBe(-1);
  });
  it('parses requests and responses, rejects broken JSON', () => {
    expect(p('{"id":1,"method":"mining.subscribe","params":[]}')?.method).toBe('mining.subscribe');
    const r = p('{"id":4,"result":true,"error":null}');
    expect(r?.method).toBeNull();
    expect(r?.hasResult).toBe(true);
    expect(p('{"id":4,"result":tru')).toBeNull();
    expect(p('{"status":"OK"}}')).toBeNull();
  });
});
