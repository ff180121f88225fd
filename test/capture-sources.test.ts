import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readCaptureStream } from '../src/capture/reader.js';
import { interfaceSource, type CaptureSource } from '../src/capture/sources.js';
import { PoolwatchError } from '../src/errors.js';

const which = (tool: string) => {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};
const tcpdump = which('tcpdump');
const dumpcap = which('dumpcap');
// Opening an interface needs root (or capabilities we do not probe for).
const root = process.getuid?.() === 0;
if (!tcpdump) console.warn('capture-sources: tcpdump not on PATH, live capture tests skipped');
if (!dumpcap) console.warn('capture-sources: dumpcap not on PATH, dumpcap fallback test skipped');
if (!root) console.warn('capture-sources: not root, live capture tests skipped');

const tmp = mkdtempSync(path.join(tmpdir(), 'pw-sources-'));
const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Captures on lo while sending `payloads` to `port` (and one decoy to port + 1), then stops. */
async function captureLoopback(src: CaptureSource, port: number, payloads: string[]) {
  const stream = await src.open();
  const seen: { payload: string; linkType: number }[] = [];
  const statsP = readCaptureStream(stream, src.name, (p) => {
    const frame = p.data.subarray(p.offset, p.offset + p.caplen).toString('latin1');
    seen.push({ payload: frame.slice(-payloads[0].length), linkType: p.linkType });
  });
  const sock = createSocket('udp4');
  const send = (msg: string, to: number) =>
    new Promise<void>((res, rej) => sock.send(msg, to, '127.0.0.1', (e) => (e ? rej(e) : res())));
  await send('decoy'.padEnd(payloads[0].length, '!'), port + 1);
  for (const m of payloads) await send(m, port);
  // -U / dumpcap flush per packet: wait until they show up, at most 10 s.
  for (let i = 0; i < 100 && seen.length < payloads.length; i++) await new Promise((r) => setTimeout(r, 100));
  sock.close();
  src.stop!();
  const stats = await statsP;
  await src.done;
  return { seen, stats };
}

describe('interfaceSource', () => {
  it('refuses an interface name that would read as an option', () => {
    expect(() => interfaceSource('-r/etc/passwd')).toThrow(PoolwatchError);
    expect(() => interfaceSource('')).toThrow(/invalid interface name/);
  });

  it.skipIf(!tcpdump || !root)('captures UDP datagrams on lo through tcpdump, honouring the filter, until stopped', async () => {
    const src = interfaceSource('lo', 'udp port 39999');
    expect(src).toMatchObject({ name: 'interface lo', kind: 'interface' });
    const { seen, stats } = await captureLoopback(src, 39999, ['poolwatch-live-1', 'poolwatch-live-2']);
    expect(seen.map((s) => s.payload)).toEqual(['poolwatch-live-1', 'poolwatch-live-2']);
    expect(seen.every((s) => s.linkType === 1)).toBe(true); // lo is Ethernet-framed on Linux
    expect(stats).toMatchObject({ format: 'pcap', packets: 2, damaged: null });
  });

  it.skipIf(!tcpdump || !root)('rejects a nonexistent interface with PW_ERR_IO quoting tcpdump', async () => {
    const src = interfaceSource('pwnosuch0');
    const err = (await src.open().catch((e: unknown) => e)) as PoolwatchError;
    expect(err).toBeInstanceOf(PoolwatchError);
    expect(err.code).toBe('PW_ERR_IO');
    expect(err.message).toMatch(/^interface pwnosuch0: tcpdump failed \(exit code 1\): tcpdump: pwnosuch0: .*No such device/);
    expect(err.message).not.toContain('\n');
    await expect(src.done).rejects.toBe(err);
  });

  it.skipIf(!tcpdump || !root)('rejects a bad filter, and a filter cannot smuggle options past "--"', async () => {
    for (const bpf of ['udp port', '-r /etc/passwd']) {
      const err = (await interfaceSource('lo', bpf)
        .open()
        .catch((e: unknown) => e)) as PoolwatchError;
      expect(err.code).toBe('PW_ERR_IO');
      expect(err.message).toMatch(/tcpdump failed \(exit code 1\): tcpdump: .*(syntax error|parse filter)/);
    }
  });

  it.skipIf(!dumpcap || !root)('falls back to dumpcap when tcpdump is not on PATH', async () => {
    const bin = mkdtempSync(path.join(tmp, 'bin-'));
    symlinkSync(dumpcap!, path.join(bin, 'dumpcap'));
    process.env.PATH = bin;
    const src = interfaceSource('lo', 'udp port 39997');
    const { seen, stats } = await captureLoopback(src, 39997, ['via-dumpcap-1', 'via-dumpcap-2']);
    expect(seen.map((s) => s.payload)).toEqual(['via-dumpcap-1', 'via-dumpcap-2']);
    expect(stats.damaged).toBeNull();
    expect(stats.format).toBe('pcapng'); // dumpcap's default, so dumpcap it was
  });

  it('fails clearly when neither tcpdump nor dumpcap is on PATH', async () => {
    process.env.PATH = mkdtempSync(path.join(tmp, 'empty-'));
    const src = interfaceSource('lo');
    await expect(src.open()).rejects.toMatchObject({
      code: 'PW_ERR_IO',
      message: 'interface lo: cannot capture: neither tcpdump nor dumpcap is on PATH',
    });
    await expect(src.done).rejects.toMatchObject({ code: 'PW_ERR_IO' });
  });
});
