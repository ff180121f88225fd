/**
 * The decoder on bytes nobody here wrote: the nDPI captures in ../shared/pcaps (Ethernet, SLL,
 * raw IP, LINKTYPE_IPV4, BSD null, PPP; tunnels, fragments, fuzzed frames). Outcomes per file are
 * pinned, a few packets are checked field by field, and when tshark is installed every packet is
 * compared with what Wireshark's dissectors find.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../src/capture/reader.js';
import { decodePacket, formatAddress } from '../src/decode/index.js';
import { newDecodedPacket } from '../src/decode/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PCAPS = path.resolve(here, '../../shared/pcaps');
const havePcaps = existsSync(PCAPS);
const haveTshark = spawnSync('tshark', ['--version']).status === 0;
if (!havePcaps) console.warn(`decode-real: ${PCAPS} not found, real-capture tests skipped`);

interface Row {
  n: number;
  linkType: number;
  outcome: string;
  src: string;
  dst: string;
  proto: number;
  sport: number;
  dport: number;
  payloadLength: number;
  ipLength: number;
  tunneled: boolean;
  laterFragment: boolean;
}

async function decodeFile(file: string): Promise<Row[]> {
  const out = newDecodedPacket();
  const rows: Row[] = [];
  await readCaptureFile(path.join(PCAPS, file), (p) => {
    const outcome = decodePacket(p, out);
    const ok = outcome === 'ok';
    const v = out.ipVersion === 4 ? 4 : 6;
    rows.push({
      n: p.index + 1,
      linkType: p.linkType,
      outcome,
      src: ok ? formatAddress(out.src, v) : '',
      dst: ok ? formatAddress(out.dst, v) : '',
      proto: out.proto,
      sport: out.srcPort,
      dport: out.dstPort,
      payloadLength: out.payloadLength,
      ipLength: out.ipLength,
      tunneled: out.tunneled,
      laterFragment: out.laterFragment,
    });
  });
  return rows;
}

/** Outcome counts, with T for tunneled and F for later fragments. */
function counts(rows: Row[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const r of rows) {
    const k = `${r.linkType} ${r.outcome}${r.tunneled ? ' T' : ''}${r.laterFragment ? ' F' : ''}`;
    c[k] = (c[k] ?? 0) + 1;
  }
  return c;
}

const EXPECTED: Record<string, Record<string, number>> = {
  '443-chrome.pcap': { '1 ok': 1 },
  '4in4tunnel.pcap': { '1 ok T': 5 },
  '4in6tunnel.pcap': { '1 ok T': 4 },
  '6in4tunnel.pcap': { '1 ok T': 127 },
  'KakaoTalk_chat.pcap': { '113 ok': 347 },
  'avast_securedns.pcapng': { '1 ok': 77 },
  'bjnp.pcap': { '101 ok': 10 },
  'custom_rules_ipv6.pcapng': { '1 ok': 8 },
  'dcerpc.pcap': { '1 ok': 16 },
  'dingtalk.pcap': { '101 ok': 16 },
  'dlt_ppp.pcap': { '9 ok': 1 },
  'dns-tunnel-iodine.pcap': { '1 ok': 434, '1 not-ip': 4 }, // the 4 are ARP
  'dns2tcp_tunnel.pcap': { '113 ok': 50 },
  'dns_doh.pcap': { '1 ok': 142 },
  'dns_fragmented.pcap': { '1 ok': 59, '1 ok F': 7 },
  'dtls_mid_sessions.pcapng': { '1 ok': 91 },
  'fuzz-2021-10-13.pcap': { '0 not-ip': 1 }, // a loopback family that is no family
  'gre.pcapng': { '1 ok T': 1 }, // PPTP
  'gtp_c.pcap': { '1 ok': 4 },
  'hls.pcapng': { '101 ok': 13 },
  'http2.pcapng': { '113 ok': 10 },
  'http_ipv6.pcap': { '1 ok': 193 },
  // First fragments holding 16 bytes of a TCP header (RFC 1858 tiny fragments): malformed.
  'ip_fragmented_garbage.pcap': { '1 malformed': 4, '1 ok F': 1248 },
  'nats.pcap': { '0 ok': 27 },
  'openwire.pcapng': { '0 ok': 43 },
  'ossfuzz_seed_fake_traces_1.pcapng': { '228 ok': 21 },
  'quic-v2.pcapng': { '113 ok': 19 },
  'rdp.pcap': { '0 ok': 20 },
};

describe.skipIf(!havePcaps)('real captures', () => {
  const files = havePcaps ? readdirSync(PCAPS).filter((f) => /\.pcap(ng)?$/.test(f)).sort() : [];

  for (const file of files) {
    it(`${file}: outcomes`, async () => {
      const rows = await decodeFile(file);
      expect(counts(rows)).toEqual(EXPECTED[file] ?? { unknown: 'add this file to EXPECTED' });
      for (const r of rows) {
        if (r.outcome !== 'ok') continue;
        expect(r.payloadLength).toBeGreaterThanOrEqual(0);
        if (r.laterFragment) expect([r.sport, r.dport, r.payloadLength]).toEqual([0, 0, 0]);
      }
    });
  }

  it('PPTP in gre.pcapng: the SIP packet inside', async () => {
    const [r] = await decodeFile('gre.pcapng');
    expect(r).toMatchObject({ outcome: 'ok', src: '192.168.10.210', dst: '192.168.103.40', proto: 17, sport: 5060, dport: 5060, payloadLength: 298, ipLength: 326, tunneled: true });
  });

  it('4in6tunnel.pcap: the inner TLS connection', async () => {
    const rows = await decodeFile('4in6tunnel.pcap');
    expect(rows.map((r) => `${r.src}:${r.sport} > ${r.dst}:${r.dport} ${r.payloadLength}`)).toEqual([
      '192.168.0.1:64455 > 10.10.10.1:443 0',
      '10.10.10.1:443 > 192.168.0.1:64455 0',
      '192.168.0.1:64455 > 10.10.10.1:443 224',
      '10.10.10.1:443 > 192.168.0.1:64455 1372',
    ]);
  });

  it('6in4tunnel.pcap: inner IPv6 addresses', async () => {
    const [r] = await decodeFile('6in4tunnel.pcap');
    expect(r).toMatchObject({ src: '2001:470:1f17:13f:3e97:eff:fe73:4dec', dst: '2604:a880:1:20::224:b001', proto: 58, tunneled: true });
  });

  it('dlt_ppp.pcap: QUIC over PPP', async () => {
    const [r] = await decodeFile('dlt_ppp.pcap');
    expect(r).toMatchObject({ linkType: 9, src: '193.167.0.252', dst: '193.167.100.100', proto: 17, sport: 44083, dport: 443, payloadLength: 1200 });
  });

  describe.skipIf(!haveTshark)('agrees with tshark', () => {
    for (const file of files) {
      it(file, async () => {
        const rows = await decodeFile(file);
        const ts = spawnSync(
          'tshark',
          ['-r', path.join(PCAPS, file), '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-T', 'fields', '-E', 'occurrence=a', '-E', 'separator=|', '-E', 'aggregator=,',
            '-e', 'frame.number', '-e', 'frame.protocols', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'udp.srcport', '-e', 'tcp.dstport', '-e', 'udp.dstport'],
          { encoding: 'utf8' },
        );
        const byFrame = new Map<number, string[]>();
        for (const line of ts.stdout.split('\n')) {
          const c = line.split('|');
          if (/^\d+$/.test(c[0] ?? '')) byFrame.set(Number(c[0]), c);
        }
        const list = (s: string | undefined) => (s ? s.split(',').filter((x) => x !== '') : []);
        for (const r of rows) {
          const t = byFrame.get(r.n);
          if (!t) continue;
          const layers = (t[1] ?? '').split(':');
          const tsIp = layers.includes('ip') || layers.includes('ipv6');
          if (r.outcome !== 'ok') {
            // We may refuse what tshark shows only when it is broken on purpose.
            if (tsIp) expect(`${r.n} ${r.outcome}`).toMatch(/malformed/);
            continue;
          }
          expect(tsIp, `frame ${r.n}`).toBe(true);
          expect([...list(t[2]), ...list(t[3])], `frame ${r.n} source`).toContain(r.src);
          if ((r.proto === 6 || r.proto === 17) && !r.laterFragment) {
            const ports = [...list(t[4]), ...list(t[5])];
            expect(ports, `frame ${r.n} ports`).toContain(String(r.sport));
            expect([...list(t[6]), ...list(t[7])], `frame ${r.n} ports`).toContain(String(r.dport));
          }
        }
      });
    }
  });
});
