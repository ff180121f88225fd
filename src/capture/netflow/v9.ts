/**
 * NetFlow v9 (RFC 3954): a 20-byte header, then flowsets: 0 = templates, 1 = options templates,
 * 2-255 reserved (skipped), 256+ = data with that template id. The header has no length; the
 * datagram is the message.
 */
import { fail } from './state.js';
import { u16, u32 } from './read.js';
import { dataSet, learnTemplate, type Msg } from './sets.js';
import { trackSequence, WINDOW_V9 } from './sequence.js';

export const V9_HEADER = 20;

/** Source id: the v9 observation domain. */
export function v9Domain(b: Uint8Array, start: number): number {
  return u32(b, start + 16);
}


export function decodeV9(b: Uint8Array, start: number, end: number, m: Msg): void {
  const dom = m.dom;
  // A v9 sequence gap counts datagrams; this domain's mean records per datagram turns it into records.
  const perDatagram = dom.datagrams > 0 ? Math.max(1, dom.records / dom.datagrams) : 1;
  dom.datagrams++;
  trackSequence(dom, u32(b, start + 12), 1, perDatagram, WINDOW_V9, m.h.sysUptime);

  let p = start + V9_HEADER;
  // Fewer than 4 bytes left cannot be a flowset: padding some exporters add to the datagram.
  while (end - p >= 4) {
    const id = u16(b, p);
    const len = u16(b, p + 2);
    if (len < 4) {
      fail(m.run, dom, p + 2 - start, `flowset ${id} has length ${len}, less than its own 4-byte header`);
      return;
    }
    if (len > end - p) {
      fail(m.run, dom, p + 2 - start, `flowset ${id} of ${len} bytes runs past the datagram (${end - p} bytes left)`);
      return;
    }
    const setEnd = p + len;
    if (id === 0) templates(b, p + 4, setEnd, m);
    else if (id === 1) optionsTemplates(b, p + 4, setEnd, m);
    else if (id >= 256) dataSet(m, id, b, p + 4, setEnd);
    p = setEnd;
  }
}

function templates(b: Uint8Array, p: number, end: number, m: Msg): void {
  while (end - p >= 4) {
    const id = u16(b, p);
    const count = u16(b, p + 2);
    if (id < 256) {
      // Zeros are the flowset's padding; anything else is a template we cannot use.
      if (id !== 0 || count !== 0) fail(m.run, m.dom, p - m.base, `template id ${id} is reserved (data templates are 256 and up)`);
      return;
    }
    p = learnTemplate(m, b, p, p + 4, end, id, false, count, 0, false);
    if (p < 0) return;
  }
}

function optionsTemplates(b: Uint8Array, p: number, end: number, m: Msg): void {
  while (end - p >= 6) {
    const id = u16(b, p);
    const scopeLen = u16(b, p + 2);
    const optLen = u16(b, p + 4);
    if (id < 256) {
      if (id !== 0 || scopeLen !== 0 || optLen !== 0) {
        fail(m.run, m.dom, p - m.base, `options template id ${id} is reserved (templates are 256 and up)`);
      }
      return;
    }
    // Both lengths are in bytes of field specifiers (4 bytes each).
    if (scopeLen % 4 !== 0 || optLen % 4 !== 0) {
      fail(m.run, m.dom, p + 2 - m.base, `options template ${id}: scope length ${scopeLen} and option length ${optLen} must be multiples of 4`);
      return;
    }
    p = learnTemplate(m, b, p, p + 6, end, id, true, (scopeLen + optLen) / 4, scopeLen / 4, false);
    if (p < 0) return;
  }
}
