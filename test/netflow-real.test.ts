/**
 * The decoder on export datagrams nobody here wrote: the akvorado captures in ../shared/netflow
 * (NetFlow v5, v9 with options and NAT, IPFIX from ipfixprobe, Juniper, SRv6 and MPLS routers).
 * Each group is read with the capture reader + packet decoder, templates before data, into one
 * FlowDecoder, and every record is compared field by field with what tshark's cflow dissector
 * says for the same datagrams (addresses, ports, protocol, flags, bytes, packets, times, sampling
 * rates, NAT). Without tshark, pinned values still check each group.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FlowDecoder } from '../src/capture/netflow/decoder.js';
import { plain, statsOf, type PlainRecord } from './helpers/netflow-collect.js';
import { feedCaptures, haveTshark, tsharkJson, type Json, type TsharkPacket } from './helpers/netflow-pcap.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DIR = path.resolve(here, '../../shared/netflow');
const haveDir = existsSync(DIR);
const tshark = haveDir && haveTshark();
if (!haveDir) console.warn(`netflow-real: ${DIR} not found, real export tests skipped`);
else if (!tshark) console.warn('netflow-real: tshark not installed, records checked against pinned values only (no field-by-field comparison)');

interface Group {
  name: string;
  files: string[];
  port: number;
  /** Records we expect (pinned, so the group is checked without tshark too). */
  records: number;
  /** A record to pin: its index and some fields. */
  pin: [number, Partial<PlainRecord>];
  /** tshark sees the files this many times over and we compare with the last pass (see data+templates). */
  tsharkPasses?: number;
  /** Records tshark cannot decode (by index), with values read from the bytes by hand. */
  tsharkCannot?: Record<number, Partial<PlainRecord>>;
}

const GROUPS: Group[] = [
  {
    name: 'NetFlow v5',
    files: ['nfv5.pcap'],
    port: 9990,
    records: 29,
    pin: [0, { src: '161.202.212.212', dst: '202.152.70.24', srcPort: 30104, dstPort: 11963, bytes: 133, packets: 1, domain: 3, samplingRate: 1 }],
  },
  {
    name: 'NetFlow v9 template, then data',
    files: ['template.pcap', 'data.pcap'],
    port: 2055,
    records: 4,
    pin: [0, { src: '198.38.121.178', dst: '91.170.143.87', srcPort: 443, dstPort: 19624, bytes: 1500, packets: 1, tcpFlags: 0x10, samplingRate: 1 }],
  },
  {
    name: 'NetFlow v9 options (sampler 1 → 1 in 30000), template, data',
    files: ['options-template.pcap', 'options-data.pcap', 'template.pcap', 'data.pcap'],
    port: 2055,
    records: 4,
    pin: [3, { src: '74.125.100.234', dst: '88.120.219.117', bytes: 1448, samplingRate: 30000 }],
  },
  {
    // The datagram carries a data flowset ahead of its own template: it waits, then decodes.
    // tshark cannot do that within one pass, so it reads the datagram twice and we compare with
    // its second pass.
    name: 'NetFlow v9 data before its template in one datagram, options',
    files: ['data+templates.pcap'],
    port: 2055,
    records: 21,
    tsharkPasses: 2,
    pin: [20, { samplingRate: 100 }],
  },
  {
    name: 'NetFlow v9 samplers 1 and 2 (options), IPv6 data',
    files: [
      'multiplesamplingrates-options-template.pcap',
      'multiplesamplingrates-options-data.pcap',
      'multiplesamplingrates-template.pcap',
      'multiplesamplingrates-data.pcap',
    ],
    port: 2055,
    records: 12,
    pin: [0, { ipVersion: 6, src: 'ffff::68', dst: 'ffff::1a', srcPort: 443, dstPort: 52616, bytes: 1348, packets: 18, samplingRate: 4000 }],
  },
  {
    name: 'NetFlow v9 SAMPLING_INTERVAL in the data records',
    files: ['samplingrate-template.pcap', 'samplingrate-data.pcap'],
    port: 8096,
    records: 6,
    pin: [0, { src: '232.131.215.65', dst: '142.183.180.65', bytes: 160, samplingRate: 2048 }],
  },
  {
    name: 'NetFlow v9 flowStart/EndMilliseconds, ICMP',
    files: ['icmp-template.pcap', 'icmp-data.pcap'],
    port: 2100,
    records: 4, // the template datagram carries two IPv6 records too
    pin: [2, { src: '203.0.113.4', dst: '203.0.113.5', proto: 1, dstPort: 2048, bytes: 84, start: Date.UTC(2023, 5, 4, 8, 39, 55, 34) }],
  },
  {
    name: 'NetFlow v9 NAT (postNAT/postNAPT), observation time',
    files: ['nat.pcap'],
    port: 2055,
    records: 9,
    pin: [
      0,
      {
        src: '172.16.100.198',
        dst: '10.89.87.1',
        srcPort: 35303,
        dstPort: 53,
        proto: 17,
        nat: { postSrc: '10.143.52.29', postDst: '10.89.87.1', postSrcPort: 35303, postDstPort: 53 },
        start: Date.UTC(2025, 5, 4, 15, 9, 0, 450),
      },
    ],
  },
  {
    name: 'IPFIX ipfixprobe: biflow reverse (PEN 29305) fields, microsecond times',
    files: ['ipfixprobe-templates.pcap', 'ipfixprobe-data.pcap'],
    port: 4739,
    records: 4,
    pin: [0, { src: '10.10.1.4', dst: '10.10.1.1', srcPort: 56166, dstPort: 53, bytes: 62, packets: 1, start: Date.UTC(2009, 9, 5, 6, 6, 7, 492) }],
  },
  {
    name: 'IPFIX MPLS, IPv6, sampling options scoped by template (1 of 10)',
    files: ['mpls.pcap'],
    port: 2055,
    records: 2,
    pin: [0, { ipVersion: 6, src: 'fd00::1:0:1:7:1', dst: 'fd00::1:0:1:5:1', srcPort: 49153, dstPort: 862, bytes: 89, samplingRate: 10 }],
  },
  {
    name: 'IPFIX IPv4 and IPv6 fields in one template, sampling 1 of 1000',
    files: ['physicalinterfaces.pcap'],
    port: 2055,
    records: 8,
    pin: [0, { ipVersion: 4, src: '147.53.240.75', dst: '212.82.101.24', bytes: 4506, packets: 3, samplingRate: 1000 }],
  },
  {
    name: 'IPFIX dataLinkFrameSection (VLAN)',
    files: ['datalink-template.pcap', 'datalink-data.pcap'],
    port: 2055,
    records: 1,
    pin: [0, { src: '51.51.51.51', dst: '52.52.52.52', proto: 17, srcPort: 55501, dstPort: 11777, bytes: 96, packets: 1 }],
  },
  {
    name: 'IPFIX dataLinkFrameSection, Ethernet over MPLS, cut frames',
    files: ['ethernet-over-mpls-with-control-word-template.pcap', 'ethernet-over-mpls-with-control-word-data.pcap'],
    port: 2055,
    records: 10,
    pin: [0, { src: '198.51.100.19', dst: '198.51.100.20', proto: 6, srcPort: 80, dstPort: 43908, bytes: 1440, tcpFlags: 0x10 }],
    // Record 4 is a pseudowire frame with a control word: labels 300012 and 17, CW 00000000,
    // Ethernet 02:00:00:00:00:06 → 02:00:00:00:00:05, IPv4 (total length 0x05d4) 198.51.100.1 →
    // .2, TCP 443 → 0xd883, flags 0x10. tshark's heuristic takes the control word for the start
    // of a MAC address and finds no IP, so this record is checked against the bytes read by hand.
    tsharkCannot: {
      3: { src: '198.51.100.1', dst: '198.51.100.2', proto: 6, srcPort: 443, dstPort: 55427, bytes: 1492, packets: 1, tcpFlags: 0x10 },
    },
  },
  {
    name: 'IPFIX SRv6 (IPv4 in IPv6) frame section',
    files: ['ipfix-srv6-template.pcap', 'ipfix-srv6-data.pcap'],
    port: 2055,
    records: 1,
    pin: [0, { ipVersion: 4, src: '8.8.8.8', dst: '213.36.140.100', proto: 1, bytes: 64 }],
  },
  {
    name: 'IPFIX Juniper enterprise fields (PEN 2636), frame section',
    files: ['juniper-cpid-template.pcap', 'juniper-cpid-data.pcap'],
    port: 2055,
    records: 1,
    pin: [0, { src: '8.8.8.8', dst: '213.36.140.101', proto: 1, bytes: 64 }],
  },
];

// --------------------------------------------------------------------- what tshark says

type Obj = { [k: string]: Json };

function str(o: Obj, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0]; // first occurrence (forward, not reverse)
  throw new Error(`${key}: unexpected ${JSON.stringify(v)}`);
}
const num = (o: Obj, key: string): number | undefined => {
  const s = str(o, key);
  return s === undefined ? undefined : Number(s);
};
const obj = (o: Obj, key: string): Obj | undefined => {
  const v = o[key];
  return v !== undefined && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
};

/** "944948.659000000" (seconds) → 944948659 ms, exactly (no float rounding). */
function secondsToMs(s: string): number {
  const [i, f = ''] = s.split('.');
  return Number(i) * 1000 + Number((f + '000').slice(0, 3));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** "Oct  5, 2009 06:06:07.492059999 UTC" → ms since 1970, the fraction cut to ms. */
function dateToMs(s: string): number {
  const m = /^(\w{3}) +(\d+), (\d{4}) (\d\d):(\d\d):(\d\d)\.(\d+) UTC$/.exec(s);
  if (m === null) throw new Error(`tshark date ${s}`);
  return Date.UTC(+m[3], MONTHS.indexOf(m[1]), +m[2], +m[4], +m[5], +m[6], Number((m[7] + '000').slice(0, 3)));
}

const hasAddress = (f: Obj) =>
  ['cflow.srcaddr', 'cflow.dstaddr', 'cflow.srcaddrv6', 'cflow.dstaddrv6', 'cflow.data_link_frame_section'].some((k) => k in f);

interface SamplingState {
  latest: number | null;
  bySampler: Map<number, number>;
  byTemplate: Map<number, number>;
}

/** The rate an options (or data) record states, 0 when none; same formulas as documented in sampling.ts. */
function statedRate(f: Obj): number {
  const interval = num(f, 'cflow.sampling_interval') ?? num(f, 'cflow.sampler_random_interval') ?? 0;
  if (interval > 0) return interval;
  const p = num(f, 'cflow.sampling_packet_interval') ?? 0;
  const s = num(f, 'cflow.sampling_packet_space');
  if (p > 0 && s !== undefined) return (p + s) / p;
  return 0;
}

/** The records tshark decodes, as PlainRecords; frames before `fromFrame` only teach sampling. */
function expectedRecords(packets: TsharkPacket[], fromFrame: number): (PlainRecord | null)[] {
  const out: (PlainRecord | null)[] = [];
  const sampling = new Map<string, SamplingState>();
  packets.forEach((p, frame) => {
    const layers = p._source.layers;
    const exporter = layers.ip['ip.src'] as string;
    const c = layers.cflow as Obj;
    const version = num(c, 'cflow.version') as 5 | 9 | 10;
    const ts = obj(c, 'cflow.timestamp_tree') as Obj;
    let exportMs: number;
    let upMs = 0;
    let domain: number;
    let flows: { f: Obj; templateId: number }[] = [];
    if (version === 5) {
      exportMs = (num(ts, 'cflow.unix_secs') as number) * 1000 + Math.floor((num(ts, 'cflow.unix_nsecs') as number) / 1e6);
      upMs = secondsToMs(str(c, 'cflow.sysuptime') as string);
      domain = ((num(c, 'cflow.engine_type') as number) << 8) | (num(c, 'cflow.engine_id') as number);
      flows = Object.keys(c)
        .filter((k) => /^pdu \d+\/\d+$/.test(k))
        .map((k) => ({ f: c[k] as Obj, templateId: -1 }));
    } else {
      if (version === 9) {
        exportMs = (num(ts, 'cflow.unix_secs') as number) * 1000;
        upMs = secondsToMs(str(c, 'cflow.sysuptime') as string);
        domain = num(c, 'cflow.source_id') as number;
      } else {
        exportMs = (num(ts, 'cflow.exporttime') as number) * 1000;
        domain = num(c, 'cflow.od_id') as number;
      }
      for (const [k, set] of Object.entries(c)) {
        if (!/^(FlowSet|Set) \d+ \[id=\d+\]/.test(k) || typeof set !== 'object' || Array.isArray(set)) continue;
        const templateId = num(set, 'cflow.flowset_id') as number;
        for (const [fk, f] of Object.entries(set)) if (/^Flow \d+$/.test(fk)) flows.push({ f: f as Obj, templateId });
      }
    }
    const skey = `${exporter}/${version}/${domain}`;
    let st = sampling.get(skey);
    if (st === undefined) sampling.set(skey, (st = { latest: null, bySampler: new Map(), byTemplate: new Map() }));
    if (version === 5) st.latest = (num(c, 'cflow.samplerate') as number) > 0 ? (num(c, 'cflow.samplerate') as number) : null;

    for (const { f, templateId } of flows) {
      if (!hasAddress(f)) {
        // an options record
        const rate = statedRate(f);
        if (rate > 0) {
          st.latest = rate;
          const sid = num(f, 'cflow.sampler_id');
          if (sid !== undefined) st.bySampler.set(sid, rate);
          const tid = num(f, 'cflow.template_id');
          if (tid !== undefined) st.byTemplate.set(tid, rate);
        }
        continue;
      }
      if (frame < fromFrame) continue;
      out.push(expectedRecord(f, { exporter, version, domain, exportMs, upMs, templateId, st }));
    }
  });
  return out;
}

function expectedRecord(
  f: Obj,
  h: { exporter: string; version: 5 | 9 | 10; domain: number; exportMs: number; upMs: number; templateId: number; st: SamplingState },
): PlainRecord | null {
  let ipVersion: 4 | 6;
  let src: string;
  let dst: string;
  let srcPort = num(f, 'cflow.srcport') ?? 0;
  let dstPort = num(f, 'cflow.dstport') ?? 0;
  let proto = num(f, 'cflow.protocol') ?? 0;
  let tcpFlags = f['cflow.tcpflags'] !== undefined ? parseInt(str(f, 'cflow.tcpflags') as string, 16) & 0xff : 0;
  let bytes = num(f, 'cflow.octets') ?? 0;
  let packets = num(f, 'cflow.packets') ?? 0;

  const frame = obj(f, 'cflow.data_link_frame_section_tree');
  const v4 = 'cflow.srcaddr' in f || 'cflow.dstaddr' in f;
  const v6 = 'cflow.srcaddrv6' in f || 'cflow.dstaddrv6' in f;
  if (v4 || v6) {
    let use6 = v6;
    if (v4 && v6) {
      const ipv = num(f, 'cflow.ip_version');
      use6 =
        ipv === 6 ||
        (ipv !== 4 &&
          [str(f, 'cflow.srcaddr'), str(f, 'cflow.dstaddr')].every((a) => a === undefined || a === '0.0.0.0') &&
          ![str(f, 'cflow.srcaddrv6'), str(f, 'cflow.dstaddrv6')].every((a) => a === undefined || a === '::'));
    }
    ipVersion = use6 ? 6 : 4;
    src = str(f, use6 ? 'cflow.srcaddrv6' : 'cflow.srcaddr') ?? (use6 ? '::' : '0.0.0.0');
    dst = str(f, use6 ? 'cflow.dstaddrv6' : 'cflow.dstaddr') ?? (use6 ? '::' : '0.0.0.0');
  } else if (frame !== undefined) {
    // the innermost IP header of the sampled frame, its transport ports, one packet of its IP length
    const inner = Object.keys(frame).filter((k) => k === 'ip' || k === 'ipv6').pop();
    if (inner === undefined) return null;
    const ip = frame[inner] as Obj;
    if (inner === 'ip') {
      ipVersion = 4;
      src = str(ip, 'ip.src') as string;
      dst = str(ip, 'ip.dst') as string;
      proto = num(ip, 'ip.proto') as number;
      if (!('cflow.octets' in f)) bytes = num(ip, 'ip.len') as number;
    } else {
      ipVersion = 6;
      src = str(ip, 'ipv6.src') as string;
      dst = str(ip, 'ipv6.dst') as string;
      proto = num(ip, 'ipv6.nxt') as number;
      if (!('cflow.octets' in f)) bytes = 40 + (num(ip, 'ipv6.plen') as number);
    }
    if (!('cflow.packets' in f)) packets = 1;
    const l4 = (obj(frame, 'tcp') ?? obj(frame, 'udp')) as Obj | undefined;
    const l4name = obj(frame, 'tcp') ? 'tcp' : 'udp';
    srcPort = l4 ? (num(l4, `${l4name}.srcport`) as number) : 0;
    dstPort = l4 ? (num(l4, `${l4name}.dstport`) as number) : 0;
    if (l4name === 'tcp' && l4) tcpFlags = parseInt(str(l4, 'tcp.flags') as string, 16) & 0xff;
  } else {
    throw new Error('no address');
  }

  let start = h.exportMs;
  let end = h.exportMs;
  const td = obj(f, 'cflow.timedelta_tree');
  const obs = str(f, 'cflow.observation_time_milliseconds');
  if (td !== undefined && 'cflow.timestart' in td) {
    // v5/v9 FIRST/LAST_SWITCHED: tshark shows them as uptime seconds
    start = h.exportMs - (h.upMs - secondsToMs(str(td, 'cflow.timestart') as string));
    end = h.exportMs - (h.upMs - secondsToMs(str(td, 'cflow.timeend') as string));
  } else if (td !== undefined && 'cflow.abstimestart' in td) {
    start = dateToMs(str(td, 'cflow.abstimestart') as string);
    end = dateToMs(str(td, 'cflow.abstimeend') as string);
  } else if (obs !== undefined) {
    start = end = dateToMs(obs);
  }

  let samplingRate = statedRate(f);
  if (samplingRate === 0) {
    const sid = num(f, 'cflow.sampler_id');
    samplingRate = (sid !== undefined ? h.st.bySampler.get(sid) : undefined) ?? h.st.byTemplate.get(h.templateId) ?? h.st.latest ?? 1;
  }

  const natKeys = [
    'cflow.post_natsource_ipv4_address',
    'cflow.post_natdestination_ipv4_address',
    'cflow.post_naptsource_transport_port',
    'cflow.post_naptdestination_transport_port',
  ];
  const nat = natKeys.some((k) => k in f)
    ? {
        postSrc: str(f, natKeys[0]) ?? null,
        postDst: str(f, natKeys[1]) ?? null,
        postSrcPort: num(f, natKeys[2]) ?? null,
        postDstPort: num(f, natKeys[3]) ?? null,
      }
    : null;

  return {
    exporter: h.exporter,
    version: h.version,
    domain: h.domain,
    ipVersion,
    src,
    dst,
    srcPort,
    dstPort,
    proto,
    tcpFlags,
    bytes,
    packets,
    samplingRate,
    start,
    end,
    nat,
  };
}

// ---------------------------------------------------------------------------------- tests

describe.skipIf(!haveDir)('NetFlow/IPFIX captures from real exporters', () => {
  for (const g of GROUPS) {
    describe(g.name, () => {
      const files = g.files.map((f) => path.join(DIR, f));

      it('decodes every record, cleanly, with the pinned values', async () => {
        const dec = new FlowDecoder();
        const { records, results } = await feedCaptures(dec, files);
        expect(results.map((r) => r.error)).toEqual(results.map(() => null));
        expect(records).toHaveLength(g.records);
        expect(plain(records[g.pin[0]])).toMatchObject(g.pin[1]);
        for (const s of dec.exporters()) expect(s).toMatchObject({ errors: 0, recordsDropped: 0, recordsPending: 0, lastError: null });
        expect(dec.totals).toMatchObject({ records: g.records, dropped: 0, errors: 0, garbage: 0 });
      });

      it.skipIf(!tshark)('matches tshark field by field', async () => {
        const dec = new FlowDecoder();
        const { records } = await feedCaptures(dec, files);
        const passes = g.tsharkPasses ?? 1;
        const packets = tsharkJson(Array.from({ length: passes }, () => files).flat(), g.port);
        const expected = expectedRecords(packets, (packets.length / passes) * (passes - 1));
        expect(expected).toHaveLength(g.records);
        const cannot = g.tsharkCannot ?? {};
        expect(expected.flatMap((e, i) => (e === null ? [i] : []))).toEqual(Object.keys(cannot).map(Number));
        const ours = records.map(plain);
        for (const [i, want] of Object.entries(cannot)) expect(ours[Number(i)]).toMatchObject(want);
        expect(ours.filter((_, i) => expected[i] !== null)).toEqual(expected.filter((e) => e !== null));
      });
    });
  }

  it('keeps what the datagrams say about the exporters: domains, templates, sampling, sequence', async () => {
    const dec = new FlowDecoder();
    await feedCaptures(
      dec,
      [
        'multiplesamplingrates-options-template.pcap',
        'multiplesamplingrates-options-data.pcap',
        'multiplesamplingrates-template.pcap',
        'multiplesamplingrates-data.pcap',
      ].map((f) => path.join(DIR, f)),
    );
    const s = statsOf(dec, '238.0.0.1', 0);
    expect(s).toMatchObject({ version: 9, datagrams: 4, records: 12, templates: 1, optionsTemplates: 1, optionsRecords: 2, samplingRate: 4000 });
    // The template datagram (sequence 2436874127) was captured long before the options datagrams
    // (…580, …581): 454 datagrams back is outside the reorder window, so a restart; the data
    // datagram (…733) is then 605 datagrams ahead of the template's.
    expect(s.restarts).toBe(1);
    expect(s.sequenceLost).toBe(605);
  });
});
