import { describe, expect, it } from 'vitest';
import { newDecodedPacket, type DecodedPacket } from '../src/decode/types.js';
import { FlowTable, type FlowEndReason } from '../src/flow/table.js';
import type { Flow } from '../src/flow/types.js';

const FIN = 0x01, SYN = 0x02, RST = 0x04, ACK = 0x10;

function packet(src: number[], sport: number, dst: number[], dport: number, flags = ACK, proto = 6): DecodedPacket {
  const p = newDecodedPacket();
  p.ipVersion = src.length === 4 ? 4 : 6;
  p.src.set(src);
  p.dst.set(dst);
  p.srcPort = sport;
  p.dstPort = dport;
  p.proto = proto;
  p.tcpFlags = proto === 6 ? flags : 0;
  p.ipLength = 40;
  return p;
}

const C = [10, 0, 0, 1];
const S = [198, 51, 100, 7];

function table(maxFlows = 1000) {
  const ended: { id: number; reason: FlowEndReason; a: string; b: string; packets: number }[] = [];
  const t: FlowTable = new FlowTable({ idleTimeoutSec: 60, udpIdleTimeoutSec: 30, activeTimeoutSec: 600, maxFlows }, () => {}, (f: Flow, reason) =>
    ended.push({ id: f.id, reason, a: t.address(f, 1), b: t.address(f, 2), packets: f.packetsAB + f.packetsBA }),
  );
  return { t, ended };
}

describe('flow table', () => {
  it('puts both directions of a conversation in one flow and keeps the address text of each side', () => {
    const { t, ended } = table();
    const f1 = t.track(packet(C, 40000, S, 3333, SYN), 1e6, 'x');
    expect(t.dir).toBe(0);
    const f2 = t.track(packet(S, 3333, C, 40000, SYN | ACK), 1e6 + 10, 'x');
    expect(t.dir).toBe(1);
    expect(f2.id).toBe(f1.id);
    expect(f2.synFrom).toBe(1);
    t.flush();
    expect(ended).toEqual([{ id: f1.id, reason: 'end', a: '10.0.0.1', b: '198.51.100.7', packets: 2 }]);
  });

  it('tells IPv6 flows apart by every address byte and formats them', () => {
    const { t, ended } = table();
    const a = [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1];
    const b = [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 2];
    const b2 = [0x20, 0x01, 0x0d, 0xb9, ...Array(11).fill(0), 2];
    t.track(packet(a, 1, b, 2), 1e6, 'x');
    t.track(packet(a, 1, b2, 2), 1e6, 'x');
    t.track(packet(b, 2, a, 1), 1e6, 'x');
    t.flush();
    // Flushed least recently seen first.
    expect(ended.map((e) => [e.a, e.b, e.packets])).toEqual([
      ['2001:db8::1', '2001:db9::2', 1],
      ['2001:db8::1', '2001:db8::2', 2],
    ]);
  });

  it('ends a TCP flow a few seconds after both FINs, not at the idle timeout, and the last ACK still belongs to it', () => {
    const { t, ended } = table();
    t.track(packet(C, 40000, S, 443, SYN), 1e6, 'x');
    t.track(packet(C, 40000, S, 443, FIN | ACK), 2e6, 'x');
    t.track(packet(S, 443, C, 40000, FIN | ACK), 2e6 + 5, 'x');
    t.track(packet(C, 40000, S, 443, ACK), 3e6, 'x'); // the last ACK: same flow
    expect(t.stats.flows).toBe(1);
    t.track(packet(C, 1, S, 2), 4e6, 'x'); // time passes, other traffic
    expect(ended).toEqual([]);
    t.track(packet(C, 1, S, 2), 8e6, 'x');
    expect(ended).toEqual([{ id: 1, reason: 'closed', a: '10.0.0.1', b: '198.51.100.7', packets: 4 }]);
    expect(t.stats).toMatchObject({ closed: 1, active: 1 });
  });

  it('ends a flow after a RST, and a new SYN on the same ports while it lingers starts a new flow', () => {
    const { t, ended } = table();
    t.track(packet(C, 40000, S, 80, SYN), 1e6, 'x');
    t.track(packet(S, 80, C, 40000, RST | ACK), 1e6 + 1, 'x');
    const again = t.track(packet(C, 40000, S, 80, SYN), 1e6 + 2, 'x');
    expect(again.id).toBe(2);
    expect(ended).toEqual([{ id: 1, reason: 'closed', a: '10.0.0.1', b: '198.51.100.7', packets: 2 }]);
    t.flush();
    expect(ended.map((e) => [e.id, e.reason])).toEqual([[1, 'closed'], [2, 'end']]);
  });

  it('one FIN alone does not end a flow: half-closed connections go on', () => {
    const { t, ended } = table();
    t.track(packet(C, 40000, S, 3333, FIN | ACK), 1e6, 'x');
    t.track(packet(S, 3333, C, 40000, ACK), 30e6, 'x');
    t.track(packet(C, 2, S, 2), 40e6, 'x');
    expect(ended).toEqual([]);
  });

  it('holds at most maxFlows, evicting the longest idle, and reuses slots without mixing flows up', () => {
    const { t, ended } = table(8);
    for (let i = 0; i < 100; i++) t.track(packet([10, 0, 1, i], 1000 + i, S, 3333), 1e6 + i, 'x');
    expect(t.stats).toMatchObject({ flows: 100, active: 8, evicted: 92 });
    // Evicted in order of last packet; each end saw its own address.
    expect(ended.slice(0, 3).map((e) => e.a)).toEqual(['10.0.1.0', '10.0.1.1', '10.0.1.2']);
    // A flow still in the table keeps counting into itself.
    const live = t.track(packet(S, 3333, [10, 0, 1, 99], 1099), 2e6, 'x');
    expect(live.packetsAB + live.packetsBA).toBe(2);
    t.flush();
    expect(ended.length).toBe(100);
    expect(new Set(ended.map((e) => e.a)).size).toBe(100);
  });

  it('keeps finding flows while the table grows past its first arrays', () => {
    const { t } = table(100_000);
    const n = 20_000;
    for (let i = 0; i < n; i++) t.track(packet([10, 1, i >> 8, i & 255], 5000, S, 443, 0, 17), 1e6, 'x');
    for (let i = 0; i < n; i++) {
      const f = t.track(packet(S, 443, [10, 1, i >> 8, i & 255], 5000, 0, 17), 1e6, 'x');
      expect(f.packetsBA).toBe(1);
    }
    expect(t.stats.flows).toBe(n);
  });

  it('ends idle flows at the idle timeout, UDP flows at their shorter one', () => {
    const { t, ended } = table();
    t.track(packet(C, 1, S, 2, ACK), 1e6, 'x'); // TCP, 60 s
    t.track(packet(C, 7, S, 8, 0, 17), 2e6, 'x'); // UDP, 30 s
    t.track(packet(C, 3, S, 4, 0, 17), 20e6, 'x');
    t.track(packet(C, 5, S, 6, 0, 17), 40e6, 'x');
    expect(ended.map((e) => [e.reason, e.a, e.packets])).toEqual([['idle', '10.0.0.1', 1]]);
    expect(t.stats.expired).toBe(1);
    t.track(packet(C, 9, S, 9, 0, 17), 62e6, 'x');
    // The TCP flow (idle 61 s) and the UDP flow of 20 s (idle 42 s) end; the one of 40 s stays.
    expect(t.stats.expired).toBe(3);
    expect(t.stats.active).toBe(2);
  });

  it('evicts the longest idle flow whether it is UDP or TCP', () => {
    const { t, ended } = table(2);
    t.track(packet(C, 1, S, 2, 0, 17), 1e6, 'x');
    t.track(packet(C, 3, S, 4, ACK), 2e6, 'x');
    t.track(packet(C, 1, S, 2, 0, 17), 3e6, 'x'); // the UDP flow is now the newer
    t.track(packet(C, 5, S, 6, ACK), 4e6, 'x');
    expect(ended.map((e) => [e.reason, e.packets])).toEqual([['evicted', 1]]);
    t.flush();
    expect(ended.map((e) => e.reason)).toEqual(['evicted', 'end', 'end']);
  });
});
