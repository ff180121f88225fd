import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { PacketView } from '../src/capture/packet.js';
import { CaptureReader, readCaptureFile, readCaptureStream } from '../src/capture/reader.js';
import { fileSource } from '../src/capture/sources.js';
import { PoolwatchError } from '../src/errors.js';
import { writePcap, writePcapng, type TestPacket } from './helpers/pcap-writer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PCAPS = path.resolve(here, '../../shared/pcaps');
const haveTcpdump = spawnSync('tcpdump', ['--version']).status === 0;
const havePcaps = existsSync(PCAPS);
const realFiles = havePcaps ? readdirSync(PCAPS).filter((f) => /\.pcap(ng)?$/.test(f)) : [];

if (!havePcaps) console.warn(`capture-files: ${PCAPS} not found, real-capture tests skipped`);
if (!haveTcpdump) console.warn('capture-files: tcpdump not on PATH, comparisons with tcpdump skipped');

const tmp = mkdtempSync(path.join(tmpdir(), 'pw-capture-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** "sec.usec" the way tcpdump -tt prints it. */
const fmtTs = (us: number) => `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;

function summary(p: PacketView) {
  return `${p.index} ${p.fileOffset} ${fmtTs(p.tsMicros)} ${p.linkType} ${p.origLen} ${p.data.subarray(p.offset, p.offset + p.caplen).toString('hex')}`;
}

// tcpdump's names for the link types in the fixtures.
const TCPDUMP_LINK: Record<string, number[]> = {
  EN10MB: [1],
  LINUX_SLL: [113],
  LINUX_SLL2: [276],
  RAW: [101, 12, 14],
  IPV4: [228],
  IPV6: [229],
  NULL: [0],
  PPP: [9],
};

describe('real captures', () => {
  it.skipIf(!havePcaps)('has fixtures to read', () => {
    expect(realFiles.length).toBeGreaterThan(10);
  });

  for (const file of realFiles) {
    it.skipIf(!havePcaps)(`reads ${file} without throwing${haveTcpdump ? ', as tcpdump does' : ''}`, async () => {
      const full = path.join(PCAPS, file);
      const ours: string[] = [];
      const stats = await readCaptureFile(full, (p) => ours.push(fmtTs(p.tsMicros)));
      expect(stats.format).toBe(file.endsWith('.pcapng') ? 'pcapng' : 'pcap');
      expect(stats.packets).toBe(ours.length);
      if (!haveTcpdump) return;
      const td = spawnSync('tcpdump', ['-r', full, '-nn', '-q', '-tt'], { encoding: 'utf8' });
      const lines = td.stdout.split('\n').filter(Boolean);
      if (td.status === 0) {
        expect(stats.damaged).toBeNull();
        expect(stats.packets).toBe(lines.length);
        // Every timestamp as tcpdump prints it (also ns captures and pcapng resolutions).
        expect(ours).toEqual(lines.map((l) => l.split(' ')[0]));
        const name = /link-type (\w+)/.exec(td.stderr)?.[1] ?? '?';
        expect(TCPDUMP_LINK[name] ?? [`unknown ${name}`]).toContain(stats.linkTypes[0]);
      } else {
        // tcpdump gave up on this file: so must we, after what it could read.
        expect(stats.damaged).not.toBeNull();
        expect(stats.packets).toBe(lines.length);
      }
    });
  }

  it.skipIf(!realFiles.includes('fuzz-2021-10-13.pcap'))('reads the fuzzed pre-2.3 file as libpcap does: one packet, then cut short', async () => {
    const file = path.join(PCAPS, 'fuzz-2021-10-13.pcap');
    const got: string[] = [];
    const stats = await readCaptureFile(file, (p) => got.push(`${p.caplen}/${p.origLen}/${p.linkType}`));
    // Version 2.0 swaps the length fields; the link type field carries 0x40000000 above NULL.
    expect(got).toEqual(['197/524501/0']);
    expect(stats.damaged?.code).toBe('PW_ERR_TRUNCATED');
    expect(stats.damaged?.message).toBe(`${file}, offset 237: input ends inside a record: 2 of its 16 bytes present`);
  });
});

describe('reading files and streams', () => {
  const pkts: TestPacket[] = Array.from({ length: 400 }, (_, i) => ({
    data: Buffer.alloc(1 + ((i * 7919) % 9000), i & 0xff),
    iface: i % 2,
  }));

  it('reads a multi-megabyte file in 1 MiB chunks exactly like one in-memory push', async () => {
    for (const [ext, buf] of [
      ['pcap', writePcap(pkts, { nanos: true })],
      ['pcapng', writePcapng(pkts, { interfaces: [{ linkType: 1 }, { linkType: 113, tsresol: 9 }], extraBlocks: true })],
    ] as const) {
      expect(buf.length).toBeGreaterThan(1.5 * 2 ** 20); // records will straddle the 1 MiB chunk edge
      const file = path.join(tmp, `big.${ext}`);
      writeFileSync(file, buf);
      const want: string[] = [];
      const r = new CaptureReader(file, (p) => want.push(summary(p)));
      r.push(buf);
      r.end();
      const got: string[] = [];
      const stats = await readCaptureFile(file, (p) => got.push(summary(p)));
      expect(got).toEqual(want);
      expect(stats).toMatchObject({ packets: 400, bytes: buf.length, damaged: null });
    }
  });

  it('chooses the format by magic number, not file name', async () => {
    const file = path.join(tmp, 'really-pcapng.pcap');
    writeFileSync(file, writePcapng(pkts3()));
    const stats = await readCaptureFile(file, () => {});
    expect(stats).toMatchObject({ format: 'pcapng', packets: 3 });
  });

  it('rejects a missing file with PW_ERR_IO naming it', async () => {
    const missing = path.join(tmp, 'nope.pcap');
    const err = await readCaptureFile(missing, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PoolwatchError);
    expect((err as PoolwatchError).code).toBe('PW_ERR_IO');
    expect((err as PoolwatchError).message).toBe(`${missing}: cannot read: ENOENT: no such file or directory`);
  });

  it('rejects a directory with PW_ERR_IO', async () => {
    const err = await readCaptureFile(tmp, () => {}).catch((e: unknown) => e);
    expect((err as PoolwatchError).code).toBe('PW_ERR_IO');
    expect((err as PoolwatchError).message).toContain(`${tmp}: cannot read: EISDIR`);
  });

  it('resolves at damage and destroys the stream instead of reading on', async () => {
    const good = writePcap(pkts.slice(0, 5));
    const bad = Buffer.from(good);
    bad.writeUInt32LE(0xffffffff, 24 + 8); // first record's caplen
    let pulled = 0;
    const stream = new Readable({
      read() {
        pulled++;
        this.push(pulled === 1 ? good : pulled === 2 ? bad.subarray(24) : good.subarray(24));
      },
    });
    const stats = await readCaptureStream(stream, 'endless', () => {});
    expect(stats.packets).toBe(5);
    expect(stats.damaged?.code).toBe('PW_ERR_BAD_LENGTH');
    expect(stats.damaged?.context.offset).toBe(good.length);
    expect(stream.destroyed).toBe(true);
  });

  it('rejects with what onPacket threw', async () => {
    const boom = new Error('consumer failed');
    const stream = Readable.from([writePcap(pkts.slice(0, 3))]);
    await expect(
      readCaptureStream(stream, 's', (p) => {
        if (p.index === 1) throw boom;
      }),
    ).rejects.toBe(boom);
  });

  it('rejects a failing stream with PW_ERR_IO naming the input', async () => {
    const stream = new Readable({ read() {} });
    const done = readCaptureStream(stream, 'flaky-pipe', () => {});
    stream.push(writePcap(pkts.slice(0, 1)));
    stream.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
    await expect(done).rejects.toMatchObject({ code: 'PW_ERR_IO', message: 'flaky-pipe: cannot read: EIO: i/o error' });
  });

  it('reports a stream that ends mid-record as truncated', async () => {
    const buf = writePcapng(pkts.slice(0, 2));
    const stats = await readCaptureStream(Readable.from([buf.subarray(0, buf.length - 3)]), 'short', () => {});
    expect(stats.packets).toBe(1);
    expect(stats.damaged?.code).toBe('PW_ERR_TRUNCATED');
  });
});

describe('fileSource', () => {
  it('opens a file, and fails on a missing one with PW_ERR_IO naming it', async () => {
    const file = path.join(tmp, 'src.pcap');
    writeFileSync(file, writePcap(pkts3()));
    const src = fileSource(file);
    expect(src).toMatchObject({ name: file, kind: 'file' });
    const stats = await readCaptureStream(await src.open(), src.name, () => {});
    expect(stats).toMatchObject({ packets: 3, bytes: readFileSync(file).length, damaged: null });

    const missing = path.join(tmp, 'missing.pcapng');
    await expect(fileSource(missing).open()).rejects.toMatchObject({
      code: 'PW_ERR_IO',
      message: `${missing}: cannot read: ENOENT: no such file or directory`,
    });
  });

  it('maps "-" to standard input', async () => {
    const src = fileSource('-');
    expect(src).toMatchObject({ name: '-', kind: 'stdin' });
    expect(await src.open()).toBe(process.stdin);
  });
});

function pkts3(): TestPacket[] {
  return [1, 2, 3].map((n) => ({ data: Buffer.alloc(n * 10, n) }));
}
