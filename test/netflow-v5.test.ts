/** NetFlow v5: header clocks, records, sampling interval, engine domain, sequence loss and restarts. */
import { describe, expect, it } from 'vitest';
import { FlowDecoder } from '../src/capture/netflow/decoder.js';
import { feed, statsOf } from './helpers/netflow-collect.js';
import { v5, type V5Record } from './helpers/netflow-build.js';

const EXP = '192.0.2.5';
const SECS = 1_700_000_000;

const rec = (over: Partial<V5Record> = {}): V5Record => ({
  src: '10.1.2.3',
  dst: '198.51.100.7',
  packets: 12,
  bytes: 3456,
  first: 95_000,
  last: 99_000,
  srcPort: 50123,
  dstPort: 3333,
  tcpFlags: 0x1b,
  proto: 6,
  ...over,
});

describe('NetFlow v5', () => {
  it('decodes every record with times from sysUptime and the header clock', () => {
    const dec = new FlowDecoder();
    const d = v5({ sysUptime: 100_000, unixSecs: SECS, unixNsecs: 250_000_000, sequence: 0, engineType: 1, engineId: 3 }, [
      rec(),
      rec({ src: '10.9.9.9', dst: '203.0.113.1', srcPort: 53, dstPort: 40000, proto: 17, tcpFlags: 0, packets: 1, bytes: 80, first: 99_999, last: 100_000 }),
    ]);
    const { records, results } = feed(dec, [d], EXP);
    expect(results).toEqual([{ version: 5, records: 2, error: null }]);
    const exportMs = SECS * 1000 + 250;
    expect(records).toEqual([
      {
        exporter: EXP,
        version: 5,
        domain: (1 << 8) | 3,
        ipVersion: 4,
        src: '10.1.2.3',
        dst: '198.51.100.7',
        srcPort: 50123,
        dstPort: 3333,
        proto: 6,
        tcpFlags: 0x1b,
        bytes: 3456,
        packets: 12,
        samplingRate: 1,
        start: exportMs - 5000,
        end: exportMs - 1000,
        nat: null,
      },
      {
        exporter: EXP,
        version: 5,
        domain: 259,
        ipVersion: 4,
        src: '10.9.9.9',
        dst: '203.0.113.1',
        srcPort: 53,
        dstPort: 40000,
        proto: 17,
        tcpFlags: 0,
        bytes: 80,
        packets: 1,
        samplingRate: 1,
        start: exportMs - 1,
        end: exportMs,
        nat: null,
      },
    ]);
    const s = statsOf(dec, EXP, 259);
    expect(s).toMatchObject({ version: 5, datagrams: 1, records: 2, errors: 0, samplingRate: null, sequenceLost: 0, restarts: 0 });
  });

  it('times across the 49.7-day uptime wrap', () => {
    const dec = new FlowDecoder();
    const { records } = feed(dec, [v5({ sysUptime: 1000, unixSecs: SECS, sequence: 0 }, [rec({ first: 2 ** 32 - 2000, last: 500 })])]);
    expect(records[0].start).toBe(SECS * 1000 - 3000);
    expect(records[0].end).toBe(SECS * 1000 - 500);
  });

  it('takes the sampling interval from the low 14 bits of the header (mode in the top 2)', () => {
    const dec = new FlowDecoder();
    const { records } = feed(dec, [
      v5({ sysUptime: 100_000, unixSecs: SECS, sequence: 0, samplingMode: 1, samplingInterval: 100 }, [rec()]),
      v5({ sysUptime: 100_000, unixSecs: SECS, sequence: 1, samplingMode: 2, samplingInterval: 0x3fff }, [rec()]),
    ]);
    expect(records.map((r) => r.samplingRate)).toEqual([100, 16383]);
    expect(records[0].packets).toBe(12); // counters stay as exported
    expect(statsOf(dec, '192.0.2.1', 0).samplingRate).toBe(16383);
  });

  it('counts lost flows from flow_sequence gaps, late datagrams give them back, a far jump back is a restart', () => {
    const dec = new FlowDecoder();
    const h = (sequence: number, sysUptime = 100_000) => ({ sysUptime, unixSecs: SECS, sequence });
    feed(dec, [v5(h(0), [rec(), rec()]), v5(h(2), [rec()])]);
    expect(statsOf(dec, '192.0.2.1', 0)).toMatchObject({ sequenceLost: 0, restarts: 0 });
    feed(dec, [v5(h(10), [rec(), rec(), rec()])]); // 3..9 missing: 7 flows
    expect(statsOf(dec, '192.0.2.1', 0).sequenceLost).toBe(7);
    feed(dec, [v5(h(3), [rec(), rec()])]); // two of them arrive late
    expect(statsOf(dec, '192.0.2.1', 0).sequenceLost).toBe(5);
    feed(dec, [v5(h(13), [rec()])]); // in order after the late one
    expect(statsOf(dec, '192.0.2.1', 0)).toMatchObject({ sequenceLost: 5, restarts: 0 });
    feed(dec, [v5(h(4_000_000), [rec()]), v5(h(0), [rec()])]);
    const s = statsOf(dec, '192.0.2.1', 0);
    expect(s.restarts).toBe(1);
    expect(s.sequenceLost).toBe(5 + 4_000_000 - 14);
    // uptime going back by more than a minute is a restart even when the sequence looks fine
    feed(dec, [v5(h(1, 10_000), [rec()])]);
    expect(statsOf(dec, '192.0.2.1', 0)).toMatchObject({ restarts: 2, sequenceLost: 5 + 4_000_000 - 14 });
  });

  it('decodes the records that are there when the count lies, and counts the rest as dropped', () => {
    const dec = new FlowDecoder();
    const full = v5({ sysUptime: 100_000, unixSecs: SECS, sequence: 0, count: 3 }, [rec(), rec({ srcPort: 1 })]);
    const { records, results } = feed(dec, [full]);
    expect(records.map((r) => r.srcPort)).toEqual([50123, 1]);
    expect(results[0].error).toBe('NetFlow v5 from 192.0.2.1 (domain 0), offset 120: count says 3 records, the datagram holds 2');
    expect(statsOf(dec, '192.0.2.1', 0)).toMatchObject({ errors: 1, recordsDropped: 1 });
    expect(dec.totals).toMatchObject({ datagrams: 1, records: 2, dropped: 1, errors: 1, garbage: 0 });
  });

  it('flags a count above 30', () => {
    const dec = new FlowDecoder();
    const recs = Array.from({ length: 31 }, (_, i) => rec({ srcPort: i }));
    const { records, results } = feed(dec, [v5({ sysUptime: 100_000, unixSecs: SECS, sequence: 0 }, recs)]);
    expect(records).toHaveLength(31);
    expect(results[0].error).toMatch(/offset 2: count 31 is above v5's maximum of 30/);
  });
});
