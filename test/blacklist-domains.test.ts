import { describe, expect, it } from 'vitest';
import { buildDomainIndex, DomainIndex } from '../src/blacklist/domains.js';
import { dom } from './helpers/names.js';

describe('DomainIndex: names and their parents', () => {
  const idx = buildDomainIndex([dom('pool.example'), dom('coin-hive.example'), dom('deep.a.b.c.example')]);
  const m = (name: string, port = 443) => idx.match(name, port)?.text ?? null;

  it('the name itself and every name below it', () => {
    expect(m('pool.example')).toBe('pool.example');
    expect(m('eu.pool.example')).toBe('pool.example');
    expect(m('a.b.c.eu.pool.example')).toBe('pool.example');
    expect(m('x.deep.a.b.c.example')).toBe('deep.a.b.c.example');
  });

  it('never a sibling, a parent, or a name that merely ends in the same letters', () => {
    expect(m('badpool.example')).toBeNull();
    expect(m('example')).toBeNull();
    expect(m('pool.example.evil')).toBeNull();
    expect(m('pool-example')).toBeNull();
    expect(m('a.b.c.example')).toBeNull();
    expect(m('hive.example')).toBeNull();
    expect(m('')).toBeNull();
    expect(m('.')).toBeNull();
  });

  it('case and one trailing dot do not matter', () => {
    expect(m('EU.Pool.Example')).toBe('pool.example');
    expect(m('pool.example.')).toBe('pool.example');
    expect(m('pool.example..')).toBeNull();
  });

  it('odd wire names do not match by accident', () => {
    expect(m('.pool.example')).toBe('pool.example');
    expect(m('a..pool.example')).toBe('pool.example');
    expect(m('pool..example')).toBeNull();
    expect(m('x'.repeat(300) + '.pool.example')).toBeNull();
    expect(m('.'.repeat(200) + 'pool.example')).toBe('pool.example');
    expect(m('a.'.repeat(120) + 'pool.example')).toBe('pool.example');
    expect(m('a.'.repeat(121) + 'pool.example')).toBeNull(); // 254 characters: not a DNS name
  });

  it('listed(): whatever the ports', () => {
    const p = buildDomainIndex([dom('pool.example:3333')]);
    expect(p.listed('eu.pool.example')?.text).toBe('pool.example:3333');
    expect(p.listed('example')).toBeNull();
  });
});

describe('DomainIndex: ports', () => {
  const idx = buildDomainIndex([
    dom('pool.example:3333'),
    dom('pool.example:3000-4000'),
    dom('pool.example:5555'),
    dom('eu.pool.example:14444'),
    dom('web.example'),
  ]);
  const m = (name: string, port: number) => idx.match(name, port)?.text ?? null;

  it('an entry with ports matches only those ports; the narrowest range wins', () => {
    expect(m('pool.example', 3333)).toBe('pool.example:3333');
    expect(m('pool.example', 3500)).toBe('pool.example:3000-4000');
    expect(m('pool.example', 5555)).toBe('pool.example:5555');
    expect(m('pool.example', 443)).toBeNull();
  });

  it('an any-port entry matches every port', () => {
    expect(m('web.example', 1)).toBe('web.example');
    expect(m('x.web.example', 65535)).toBe('web.example');
  });

  it('the most specific name is tried first, and a parent still answers for other ports', () => {
    expect(m('eu.pool.example', 14444)).toBe('eu.pool.example:14444');
    expect(m('eu.pool.example', 3333)).toBe('pool.example:3333');
    expect(m('x.eu.pool.example', 14444)).toBe('eu.pool.example:14444');
    expect(m('eu.pool.example', 80)).toBeNull();
  });

  it('duplicates are kept once', () => {
    const d = new DomainIndex();
    expect(d.add(dom('pool.example'))).toBe(true);
    expect(d.add(dom('pool.example'))).toBe(false);
    expect(d.add(dom('pool.example:3333'))).toBe(true);
    expect(d.size).toBe(2);
  });

  it('entries in another spelling are normalised (upper case, trailing dot)', () => {
    const d = buildDomainIndex([{ ...dom('Pool.Example.'), text: 'Pool.Example.' }]);
    expect(d.match('eu.pool.example', 1)?.name).toBe('pool.example');
  });
});

describe('DomainIndex: many names', () => {
  it('10,000 names: each found, its subdomains found, its siblings not', () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `p${i}.pool${i % 97}.example`);
    const idx = buildDomainIndex(names.map((n) => dom(n)));
    expect(idx.size).toBe(10_000);
    for (let i = 0; i < names.length; i += 7) {
      expect(idx.match(names[i]!, 1)?.name).toBe(names[i]);
      expect(idx.match(`w.${names[i]}`, 1)?.name).toBe(names[i]);
      expect(idx.match(`x${names[i]}`, 1)).toBeNull();
    }
    expect(idx.match('pool3.example', 1)).toBeNull();
  });
});
