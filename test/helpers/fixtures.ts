/**
 * The committed captures in fixtures/, defined here from the scripted sessions so that anyone can
 * see (and regenerate, with UPDATE_FIXTURES=1 npm test -- fixtures) exactly what each contains.
 */
import { conversation, type ConversationOptions, type Say } from './conversation.js';
import { ethernet, sll, udp, ipv4 } from './frames.js';
import { writePcap, writePcapng, type TestPacket } from './pcap-writer.js';
import {
  bitcoinStratum,
  bitcoinVersionMessage,
  ethProxySession,
  httpGetwork,
  jsonApi,
  niceHashSession,
  walletRpc,
  webPage,
  xmrigSession,
} from './sessions.js';

const T0 = Date.UTC(2024, 2, 1, 8, 0, 0) * 1000;
const eth = (ip: Uint8Array) => ethernet(ip);
const conv = (says: Say[], o: Omit<ConversationOptions, 'startMicros'>, startSec: number) =>
  conversation(says, { link: eth, ...o, startMicros: T0 + startSec * 1e6 });

/** Merge packet lists by time, as a tap would have interleaved them. */
function interleave(...lists: TestPacket[][]): TestPacket[] {
  return lists.flat().sort((a, b) => (a.tsMicros ?? 0) - (b.tsMicros ?? 0));
}

/** A benign DNS query, so the sample holds UDP too. */
function dnsQuery(startSec: number): TestPacket {
  const q = Buffer.from('12340100000100000000000003777777076578616d706c6503636f6d0000010001', 'hex');
  return { data: eth(ipv4({ src: '10.20.30.41', dst: '192.0.2.53', proto: 17, payload: udp({ srcPort: 53001, dstPort: 53, payload: q }) })), tsMicros: T0 + startSec * 1e6 };
}

/** The miners in sample.pcap, with the conversation options they were built from. */
export const SAMPLE_MINERS = {
  btc: { says: bitcoinStratum, o: { client: '10.20.30.40', server: '198.51.100.10', clientPort: 50123, serverPort: 3333 }, start: 0 },
  xmr: { says: xmrigSession, o: { client: '10.20.30.50', server: '203.0.113.77', clientPort: 41000, serverPort: 14444 }, start: 1 },
  eth: { says: ethProxySession, o: { client: '10.20.30.60', server: '198.51.100.20', clientPort: 42000, serverPort: 8008, segmentSize: 60 }, start: 2 },
};

/** Packets of one sample miner, as built into the fixture. */
export function samplePackets(m: (typeof SAMPLE_MINERS)[keyof typeof SAMPLE_MINERS]): TestPacket[] {
  return conv(m.says, m.o, m.start);
}

export interface Fixture {
  name: string;
  build(): Buffer;
  /** One line for fixtures/README.md. */
  about: string;
}

export const FIXTURES: Fixture[] = [
  {
    name: 'sample.pcap',
    about: 'Ethernet, pcap µs: a Bitcoin Stratum miner, an XMRig miner, an EthProxy miner and benign web, wallet-RPC, JSON-API and DNS traffic.',
    build: () =>
      writePcap(
        interleave(
          samplePackets(SAMPLE_MINERS.btc),
          samplePackets(SAMPLE_MINERS.xmr),
          samplePackets(SAMPLE_MINERS.eth),
          conv(webPage, { client: '10.20.30.41', server: '192.0.2.80', clientPort: 51000, serverPort: 80 }, 3),
          conv(walletRpc, { client: '10.20.30.41', server: '192.0.2.81', clientPort: 51001, serverPort: 8332 }, 4),
          conv(jsonApi, { client: '10.20.30.41', server: '192.0.2.82', clientPort: 51002, serverPort: 3333 }, 5),
          [dnsQuery(6)],
        ),
      ),
  },
  {
    name: 'stratum-btc.pcap',
    about: 'Ethernet, pcap µs: one Bitcoin Stratum session with handshake, one accepted and one rejected share.',
    build: () => writePcap(conv(bitcoinStratum, { client: '10.20.30.40', server: '198.51.100.10', clientPort: 50123, serverPort: 3333 }, 0)),
  },
  {
    name: 'xmrig-ipv6.pcapng',
    about: 'pcapng, two interfaces (Ethernet and Linux SLL): XMRig over IPv6 on if0, a web page over IPv4 on if1.',
    build: () =>
      writePcapng(
        interleave(
          conv(xmrigSession, { client: '2001:db8:1::10', server: '2001:db8:ff::5', clientPort: 45000, serverPort: 14444 }, 0),
          conversation(webPage, { client: '10.20.30.41', server: '192.0.2.80', clientPort: 51000, serverPort: 80, link: (ip) => sll(ip), startMicros: T0 + 5e5 }).map((p) => ({ ...p, iface: 1 })),
        ),
        { interfaces: [{ linkType: 1 }, { linkType: 113 }] },
      ),
  },
  {
    name: 'ethproxy-vlan-ns.pcap',
    about: 'Ethernet with 802.1Q VLAN 100, big-endian nanosecond pcap: EthProxy, messages cut into 17-byte segments.',
    build: () =>
      writePcap(
        conversation(ethProxySession, {
          client: '10.20.30.60',
          server: '198.51.100.20',
          clientPort: 42000,
          serverPort: 8008,
          segmentSize: 17,
          link: (ip) => ethernet(ip, { vlans: [100] }),
          startMicros: T0,
        }),
        { nanos: true, bigEndian: true },
      ),
  },
  {
    name: 'nicehash-pool-only-midstream.pcap',
    about: 'Linux SLL: NiceHash EthereumStratum seen from the pool side only, joined mid-session (first 30 bytes missing).',
    build: () =>
      writePcap(
        conversation(niceHashSession, {
          client: '10.20.30.70',
          server: '198.51.100.30',
          clientPort: 43000,
          serverPort: 3353,
          only: 's',
          skipBytes: 30,
          link: (ip) => sll(ip),
          startMicros: T0,
        }),
        { linkType: 113 },
      ),
  },
  {
    name: 'getwork-http.pcap',
    about: 'Raw IP link type: getwork over HTTP (cgminer 2.7.2, X-Mining-Extensions) to a pool on port 8332.',
    build: () =>
      writePcap(conversation(httpGetwork, { client: '10.20.30.80', server: '198.51.100.40', clientPort: 44000, serverPort: 8332, startMicros: T0 }), { linkType: 101 }),
  },
  {
    name: 'bitcoin-p2p.pcap',
    about: 'Ethernet: a Bitcoin full node sending its version message (crypto-p2p, not pool mining).',
    build: () =>
      writePcap(conv([{ from: 'c', text: bitcoinVersionMessage() }], { client: '10.20.30.90', server: '198.51.100.50', clientPort: 46000, serverPort: 8333 }, 0)),
  },
  {
    name: 'blacklisted-tls.pcap',
    about: 'Ethernet: an opaque (TLS-like) session to 198.51.100.99:5555, in fixtures/pools.txt; nothing in the payload says mining.',
    build: () =>
      writePcap(
        conv(
          [
            { from: 'c', text: Buffer.from('160301002a010000260303' + '00'.repeat(38), 'hex') },
            { from: 's', text: Buffer.from('160303002a020000260303' + '11'.repeat(38), 'hex') },
          ],
          { client: '10.20.30.95', server: '198.51.100.99', clientPort: 47000, serverPort: 5555 },
          0,
        ),
      ),
  },
  {
    name: 'truncated.pcap',
    about: 'stratum-btc.pcap cut 50 bytes into its 9th record: a damaged file.',
    build: () => {
      const whole = writePcap(conv(bitcoinStratum, { client: '10.20.30.40', server: '198.51.100.10', clientPort: 50123, serverPort: 3333 }, 0));
      let off = 24;
      for (let i = 0; i < 8; i++) off += 16 + whole.readUInt32LE(off + 8);
      return whole.subarray(0, off + 16 + 50);
    },
  },
];
