import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlainList } from '../src/blacklist/plain.js';
import { collectBlocklist, renderBlocklist, type Blocklist, type BlocklistFormat, type BlocklistWhat } from '../src/report/blocklist.js';
import { openDatabase, type Database } from '../src/report/db.js';
import { HitSink, startRun } from '../src/report/sink.js';
import { cli, hasCommand } from './helpers/cli.js';
import { hit } from './helpers/hits.js';

function fixture(db: Database): void {
  const s = new HitSink(db, startRun(db, { command: 't', inputs: [] }));
  s.add(hit({ src: '10.0.0.2', poolIp: '198.51.100.10', poolPort: 3333 }));
  s.add(hit({ src: '10.0.0.3', poolIp: '198.51.100.10', poolPort: 3333 }));
  s.add(hit({ src: '10.0.0.3', poolIp: '198.51.100.10', poolPort: 443 }));
  s.add(hit({ src: '10.0.0.10', poolIp: '203.0.113.77', poolPort: 14444, evidence: ['cryptonote'] }));
  s.add(hit({ src: '2001:db8:1::10', poolIp: '2001:db8:ff::5', poolPort: 14444, evidence: ['cryptonote'] }));
  s.add(hit({ src: '10.0.0.4', poolIp: '198.51.100.99', poolPort: 5555, proto: 17, evidence: ['blacklist-ip'] }));
  // Not pools: a Bitcoin node's peer, and a suspect flow (a lead, not a finding).
  s.add(hit({ src: '10.0.0.50', poolIp: '192.0.2.33', poolPort: 8333, category: 'crypto-p2p', evidence: ['bitcoin-p2p'] }));
  s.add(hit({ src: '10.0.0.60', poolIp: '192.0.2.44', poolPort: 3333, category: 'suspect', evidence: ['steady-flow'] }));
  s.flush();
  // A hand-edited row whose "address" would inject a rule: never written.
  db.prepare(`UPDATE hits SET pool_ip = '1.2.3.4 } ; flush ruleset ; {' WHERE src = '10.0.0.4'`).run();
}

describe('block lists from the hits', () => {
  const db = openDatabase(':memory:');
  fixture(db);

  it('collects mining pool endpoints and sources, sorted; skips what is not an address', () => {
    const b = collectBlocklist(db, { what: 'both' });
    expect(b.pools.map((p) => `${p.ip} ${p.port}`)).toEqual(['198.51.100.10 443', '198.51.100.10 3333', '203.0.113.77 14444', '2001:db8:ff::5 14444']);
    expect(b.sources).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.10', '2001:db8:1::10']);
    expect(b.skipped).toBe(1);
    const p2p = collectBlocklist(db, { what: 'pools', categories: ['crypto-p2p'] });
    expect(p2p.pools.map((p) => p.port)).toEqual([8333]);
    expect(p2p.sources).toEqual([]);
  });

  it('nft: table and sets declared, each flushed and refilled; addresses and address . port', () => {
    const text = renderBlocklist(collectBlocklist(db, { what: 'both' }), 'nft', { what: 'both', name: 'pwtest', comment: 'test' });
    expect(text).toContain('table inet pwtest {\n\tset pools4 {\n\t\ttype ipv4_addr\n\t}');
    expect(text).toContain('\tset pool_ports4 {\n\t\ttype ipv4_addr . inet_service\n\t}');
    expect(text).toContain('\tset pool_ports6 {\n\t\ttype ipv6_addr . inet_service\n\t}');
    expect(text).toContain('flush set inet pwtest pools4\nadd element inet pwtest pools4 {\n\t198.51.100.10,\n\t203.0.113.77\n}');
    expect(text).toContain('add element inet pwtest pool_ports4 {\n\t198.51.100.10 . 443,\n\t198.51.100.10 . 3333,\n\t203.0.113.77 . 14444\n}');
    expect(text).toContain('add element inet pwtest pool_ports6 {\n\t2001:db8:ff::5 . 14444\n}');
    expect(text).toContain('add element inet pwtest sources6 {\n\t2001:db8:1::10\n}');
    expect(text).not.toContain('flush ruleset');
  });

  it('ipset: hash:ip and hash:ip,port sets per family, filled under a temporary name and swapped in', () => {
    const text = renderBlocklist(collectBlocklist(db, { what: 'pools' }), 'ipset', { what: 'pools', name: 'pwtest', comment: 'test' });
    const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toContain('create pwtest-pools6 hash:ip family inet6 hashsize 1024 maxelem 1048576 -exist');
    expect(lines).toContain('create pwtest-poolports4 hash:ip,port family inet hashsize 1024 maxelem 1048576 -exist');
    expect(lines).toContain('add pwtest-poolports4-new 198.51.100.10,tcp:3333');
    expect(lines).toContain('add pwtest-poolports6-new 2001:db8:ff::5,tcp:14444');
    expect(lines).toContain('swap pwtest-pools4-new pwtest-pools4');
    expect(lines.some((l) => l.includes('sources'))).toBe(false);
  });

  it('plain: reads back through the project plain-list parser', () => {
    const b = collectBlocklist(db, { what: 'pools' });
    const text = renderBlocklist(b, 'plain', { what: 'pools', name: 'poolwatch', comment: 'test' });
    const parsed = parsePlainList(text, 'export.txt');
    expect(parsed.errors).toEqual([]);
    expect(parsed.entries.map((e) => e.text)).toEqual(['198.51.100.10:443', '198.51.100.10:3333', '203.0.113.77:14444', '[2001:db8:ff::5]:14444']);
    const src = parsePlainList(renderBlocklist(b, 'plain', { what: 'sources', name: 'poolwatch', comment: 'x' }), 's.txt');
    expect(src.entries).toEqual([]); // 'pools' collected no sources
  });

  it('refuses a name that could not be an nft table or fit an ipset name', () => {
    const b = collectBlocklist(db, { what: 'pools' });
    expect(() => renderBlocklist(b, 'nft', { what: 'pools', name: 'x; flush ruleset', comment: '' })).toThrow(/name/);
    expect(() => renderBlocklist(b, 'ipset', { what: 'pools', name: 'a'.repeat(17), comment: '' })).toThrow(/name/);
  });
});

// ---------------------------------------------------------------- the real tools

const run = (cmd: string, args: string[], input?: string) => spawnSync(cmd, args, { input, encoding: 'utf8' });

/** A fresh network namespace for loading sets (root only); null when it cannot be made. */
function netns(): string | null {
  if (!hasCommand('ip') || process.getuid?.() !== 0) return null;
  const name = `pwtest${process.pid}${Math.floor(Math.random() * 1e6)}`;
  return run('ip', ['netns', 'add', name]).status === 0 ? name : null;
}

function sample(n: number): Blocklist {
  const pools = Array.from({ length: n }, (_, i) => ({ ip: `198.51.100.${i + 1}`, port: 3333 + i, proto: 6 }));
  pools.push({ ip: '2001:db8::7', port: 443, proto: 6 });
  return { pools, sources: ['10.0.0.1', '2001:db8:1::1'].slice(0, n === 0 ? 0 : 2), skipped: 0 };
}

const NFT = hasCommand('nft');
const IPSET = hasCommand('ipset');
if (!NFT) console.warn('blocklist: nft is not installed (apt-get install -y nftables): nft files are checked by the syntax tests only');
if (!IPSET) console.warn('blocklist: ipset is not installed (apt-get install -y ipset): ipset files are checked by the syntax tests only');

describe.skipIf(!NFT)('nft -f reads the nft file', () => {
  let dir: string;
  let ns: string | null = null;
  let checkWorks = false;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-nft-'));
    // Can nft's check mode run here at all (it talks netlink, usually as root)?
    const probe = join(dir, 'probe.nft');
    writeFileSync(probe, 'table inet pwprobe {\n\tset s {\n\t\ttype ipv4_addr\n\t}\n}\n');
    const r = run('nft', ['-c', '-f', probe]);
    checkWorks = r.status === 0;
    if (!checkWorks) console.warn(`blocklist: nft -c cannot run here (${r.stderr.trim()}): nft files are checked by the syntax tests only`);
    ns = netns();
    if (ns === null) console.warn('blocklist: no network namespace (needs root and ip netns): nft files are not loaded into a kernel');
  });
  afterAll(() => {
    if (ns !== null) run('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (b: Blocklist, what: BlocklistWhat, format: BlocklistFormat, name: string) => {
    const f = join(dir, `${name}-${what}.${format}`);
    writeFileSync(f, renderBlocklist(b, format, { what, name: 'pwtest', comment: `test ${name}` }));
    return f;
  };

  it('nft -c -f accepts every variant, empty sets included', (ctx) => {
    if (!checkWorks) return ctx.skip();
    for (const what of ['pools', 'sources', 'both'] as const) {
      for (const b of [sample(3), sample(0)]) {
        const r = run('nft', ['-c', '-f', write(b, what, 'nft', `c${b.pools.length}`)]);
        expect(r.status, r.stderr).toBe(0);
      }
    }
    // and check mode does reject a broken file (so the test means something)
    const bad = join(dir, 'bad.nft');
    writeFileSync(bad, 'table inet pwtest {\n\tset s {\n\t\ttype ipv4_addr\n\t}\n}\nadd element inet pwtest s { 300.1.2.3 }\n');
    expect(run('nft', ['-c', '-f', bad]).status).not.toBe(0);
  });

  it('loads into a fresh namespace, and a reload replaces the contents', (ctx) => {
    if (ns === null) return ctx.skip();
    const first = write(sample(3), 'both', 'nft', 'load1');
    expect(run('ip', ['netns', 'exec', ns, 'nft', '-f', first]).stderr).toBe('');
    const list = (set: string) => {
      const r = run('ip', ['netns', 'exec', ns!, 'nft', '-j', 'list', 'set', 'inet', 'pwtest', set]);
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
      const elems = j.nftables.find((x) => x.set !== undefined)!.set!.elem ?? [];
      return elems.map((e) => (typeof e === 'string' ? e : (e as { concat: unknown[] }).concat.join(' . ')));
    };
    expect(list('pools4')).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
    expect(list('pool_ports4')).toEqual(['198.51.100.1 . 3333', '198.51.100.2 . 3334', '198.51.100.3 . 3335']);
    expect(list('pool_ports6')).toEqual(['2001:db8::7 . 443']);
    expect(list('sources6')).toEqual(['2001:db8:1::1']);
    // Reload with a shorter list: the sets hold exactly the new one.
    const second = write(sample(1), 'both', 'nft', 'load2');
    expect(run('ip', ['netns', 'exec', ns, 'nft', '-f', second]).status).toBe(0);
    expect(list('pools4')).toEqual(['198.51.100.1']);
    expect(list('pool_ports4')).toEqual(['198.51.100.1 . 3333']);
  });
});

describe.skipIf(!IPSET)('ipset restore reads the ipset file', () => {
  let dir: string;
  let ns: string | null = null;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-ipset-'));
    ns = netns();
    if (ns === null) console.warn('blocklist: no network namespace (needs root and ip netns): ipset files are not loaded');
    else if (run('ip', ['netns', 'exec', ns, 'ipset', 'list', '-n']).status !== 0) {
      console.warn('blocklist: ipset cannot talk to the kernel here (no ip_set module?): ipset files are not loaded');
      run('ip', ['netns', 'del', ns]);
      ns = null;
    }
  });
  afterAll(() => {
    if (ns !== null) run('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores into a fresh namespace (sets of its own), and a reload swaps in the new contents', (ctx) => {
    if (ns === null) return ctx.skip();
    const load = (b: Blocklist, name: string) => {
      const f = join(dir, name);
      writeFileSync(f, renderBlocklist(b, 'ipset', { what: 'both', name: 'pwtest', comment: name }));
      const r = run('ip', ['netns', 'exec', ns!, 'ipset', 'restore', '-f', f]);
      expect(r.status, r.stderr).toBe(0);
    };
    const members = () => {
      const r = run('ip', ['netns', 'exec', ns!, 'ipset', 'save']);
      return r.stdout.split('\n').filter((l) => l.startsWith('add ')).sort();
    };
    load(sample(2), 'one.ipset');
    expect(members()).toEqual([
      'add pwtest-poolports4 198.51.100.1,tcp:3333',
      'add pwtest-poolports4 198.51.100.2,tcp:3334',
      'add pwtest-poolports6 2001:db8::7,tcp:443',
      'add pwtest-pools4 198.51.100.1',
      'add pwtest-pools4 198.51.100.2',
      'add pwtest-pools6 2001:db8::7',
      'add pwtest-sources4 10.0.0.1',
      'add pwtest-sources6 2001:db8:1::1',
    ]);
    expect(run('ip', ['netns', 'exec', ns, 'ipset', 'test', 'pwtest-poolports4', '198.51.100.2,tcp:3334']).status).toBe(0);
    load(sample(1), 'two.ipset');
    expect(members().filter((l) => l.includes('pools4'))).toEqual(['add pwtest-pools4 198.51.100.1']);
    // no temporary set is left behind
    expect(run('ip', ['netns', 'exec', ns, 'ipset', 'list', '-n']).stdout).not.toContain('-new');
  });
});

describe('poolwatch export blocklist (CLI)', () => {
  let dir: string;
  let path: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-export-'));
    path = join(dir, 'hits.db');
    const db = openDatabase(path);
    fixture(db);
    db.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the three formats; the plain one goes back in with blacklist import --format plain', () => {
    const nft = cli(['export', 'blocklist', '--db', path]);
    expect(nft.code, nft.stderr).toBe(0);
    expect(nft.stdout).toMatch(/^#!\/usr\/sbin\/nft -f\n# poolwatch export blocklist: pools from hits\.db, category mining, /);
    expect(nft.stderr).toContain('1 rows left out');
    const ipset = cli(['export', 'blocklist', '--db', path, '--format', 'ipset', '--what', 'sources', '--name', 'pw']);
    expect(ipset.stdout).toContain('add pw-sources4-new 10.0.0.2');
    const out = join(dir, 'pools.txt');
    const plain = cli(['export', 'blocklist', '--db', path, '--format', 'plain', '-o', out]);
    expect(plain.code).toBe(0);
    const other = join(dir, 'list.db');
    const im = cli(['blacklist', 'import', out, '--format', 'plain', '--source', 'mined', '--db', other]);
    expect(im.code, im.stderr).toBe(0);
    const listed = JSON.parse(cli(['blacklist', 'list', '--source', 'mined', '-f', 'json', '--db', other]).stdout) as { entries: { entry?: string; text?: string }[] };
    expect(listed.entries.map((e) => e.entry ?? e.text).sort()).toEqual(['198.51.100.10:3333', '198.51.100.10:443', '203.0.113.77:14444', '[2001:db8:ff::5]:14444']);
    const bad = cli(['export', 'blocklist', '--db', path, '--category', 'bogus']);
    expect(bad.code).toBe(2);
  });
});
