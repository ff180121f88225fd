import { describe, expect, it } from 'vitest';
import { formatAddress } from '../src/decode/index.js';
import { parseAddress } from './helpers/frames.js';

const v6 = (s: string) => formatAddress(parseAddress(s), 6);

describe('formatAddress', () => {
  it('IPv4: dotted quad, from the first 4 bytes of a 16-byte buffer too', () => {
    expect(formatAddress(Uint8Array.of(192, 0, 2, 1), 4)).toBe('192.0.2.1');
    expect(formatAddress(Uint8Array.of(0, 0, 0, 0), 4)).toBe('0.0.0.0');
    expect(formatAddress(Uint8Array.of(255, 255, 255, 255), 4)).toBe('255.255.255.255');
    const wide = new Uint8Array(16).fill(9);
    wide.set([10, 20, 30, 40]);
    expect(formatAddress(wide, 4)).toBe('10.20.30.40');
  });

  // RFC 5952 §4 and its examples.
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // §4.1 leading zeros, §4.2.1 longest run
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2 one zero group stays
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // §4.2.3 the longest run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.2.3 first of equal runs
    ['2001:DB8:AAAA:BBBB:CCCC:DDDD:EEEE:000A', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:a'], // §4.3 lower case
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['fe80:0:0:0:0:0:0:abcd', 'fe80::abcd'],
    ['0:0:1:0:0:0:0:0', '0:0:1::'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['0:1:0:0:1:0:0:0', '0:1:0:0:1::'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // §5 v4-mapped in mixed notation
    ['0:0:0:0:0:ffff:c000:280', '::ffff:192.0.2.128'],
    ['::ffff:0.0.0.0', '::ffff:0.0.0.0'],
    ['::192.0.2.1', '::c000:201'], // deprecated v4-compatible: plain hex
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'], // NAT64: plain hex (mixed is optional)
    ['0:0:0:0:1:ffff:c000:201', '::1:ffff:c000:201'], // not mapped
  ];
  for (const [input, want] of cases) {
    it(`${input} → ${want}`, () => expect(v6(input)).toBe(want));
  }

  it('agrees with the WHATWG URL serializer (same rules) on 3000 random addresses', () => {
    let seed = 12345;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    for (let i = 0; i < 3000; i++) {
      const groups: string[] = [];
      for (let g = 0; g < 8; g++) {
        const r = next();
        groups.push((r < 0.55 ? 0 : r < 0.75 ? (next() * 16) | 0 : (next() * 65536) | 0).toString(16).padStart(4, '0'));
      }
      const full = groups.join(':');
      const bytes = parseAddress(full);
      if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) continue;
      const want = new URL(`http://[${full}]/`).hostname.slice(1, -1);
      expect(formatAddress(bytes, 6), full).toBe(want);
    }
  });
});
