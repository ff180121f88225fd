/**
 * IPFIX (RFC 7011): a 16-byte header with the message length, then sets: 2 = templates,
 * 3 = options templates, 4-255 reserved (skipped), 256+ = data. Templates may be withdrawn
 * (field count 0), one id at a time or all at once (§8.1).
 */
import { fail } from './state.js';
import { withdrawAll, withdrawTemplate } from './templates.js';
import { u16, u32 } from './read.js';
import { dataSet, learnTemplate, type Msg } from './sets.js';
import { trackSequence, WINDOW_IPFIX } from './sequence.js';

export const IPFIX_HEADER = 16;

export function ipfixDomain(b: Uint8Array, start: number): number {
  return u32(b, start + 12);
}


export function decodeIpfix(b: Uint8Array, start: number, end: number, m: Msg): void {
  const dom = m.dom;
  dom.datagrams++;
  const seq = u32(b, start + 8);
  const msgLen = u16(b, start + 2);
  if (msgLen < IPFIX_HEADER) {
    fail(m.run, dom, 2, `message length ${msgLen} is shorter than the ${IPFIX_HEADER}-byte header`);
    trackSequence(dom, seq, -1, 1, WINDOW_IPFIX, -1);
    return;
  }
  // Records counted for the sequence; -1 once a set waits for its template or is damaged.
  let records = 0;
  let msgEnd = start + msgLen;
  if (msgLen > end - start) {
    fail(m.run, dom, 2, `message length ${msgLen} but the datagram has ${end - start} bytes`);
    msgEnd = end;
    records = -1;
  }
  let p = start + IPFIX_HEADER;
  while (msgEnd - p >= 4) {
    const id = u16(b, p);
    const len = u16(b, p + 2);
    if (len < 4) {
      fail(m.run, dom, p + 2 - start, `set ${id} has length ${len}, less than its own 4-byte header`);
      records = -1;
      break;
    }
    if (len > msgEnd - p) {
      fail(m.run, dom, p + 2 - start, `set ${id} of ${len} bytes runs past the message (${msgEnd - p} bytes left)`);
      records = -1;
      break;
    }
    const setEnd = p + len;
    if (id === 2) templates(b, p + 4, setEnd, m);
    else if (id === 3) optionsTemplates(b, p + 4, setEnd, m);
    else if (id >= 256) {
      const r = dataSet(m, id, b, p + 4, setEnd);
      records = r < 0 || records < 0 ? -1 : records + r;
    }
    p = setEnd;
  }
  if (p < msgEnd && records >= 0) {
    // Sets fill the message exactly (§3.3); stray bytes mean some length lied.
    fail(m.run, dom, p - start, `${msgEnd - p} bytes after the last set`);
    records = -1;
  }
  trackSequence(dom, seq, records, 1, WINDOW_IPFIX, -1);
}

/** Template id 2 (in a template set) or 3 (options) with field count 0 withdraws them all. */
function withdraw(p: number, id: number, options: boolean, m: Msg): boolean {
  if (id === (options ? 3 : 2)) withdrawAll(m.exp, m.dom, options);
  else if (id >= 256) withdrawTemplate(m.exp, m.dom, id);
  else {
    // Zeros are the set's padding; other reserved ids are damage.
    if (id !== 0) fail(m.run, m.dom, p - m.base, `withdrawal of reserved template id ${id}`);
    return false;
  }
  return true;
}

function templates(b: Uint8Array, p: number, end: number, m: Msg): void {
  while (end - p >= 4) {
    const id = u16(b, p);
    const count = u16(b, p + 2);
    if (count === 0) {
      if (!withdraw(p, id, false, m)) return;
      p += 4;
      continue;
    }
    if (id < 256) {
      fail(m.run, m.dom, p - m.base, `template id ${id} is reserved (templates are 256 and up)`);
      return;
    }
    p = learnTemplate(m, b, p, p + 4, end, id, false, count, 0, true);
    if (p < 0) return;
  }
}

function optionsTemplates(b: Uint8Array, p: number, end: number, m: Msg): void {
  while (end - p >= 4) {
    const id = u16(b, p);
    const count = u16(b, p + 2);
    if (count === 0) {
      if (!withdraw(p, id, true, m)) return;
      p += 4;
      continue;
    }
    if (id < 256) {
      fail(m.run, m.dom, p - m.base, `options template id ${id} is reserved (templates are 256 and up)`);
      return;
    }
    if (end - p < 6) {
      fail(m.run, m.dom, p - m.base, `options template ${id} is cut by the end of its set`);
      return;
    }
    const scope = u16(b, p + 4);
    if (scope > count) {
      fail(m.run, m.dom, p + 4 - m.base, `options template ${id}: scope field count ${scope} exceeds its field count ${count}`);
      return;
    }
    p = learnTemplate(m, b, p, p + 6, end, id, true, count, scope, true);
    if (p < 0) return;
  }
}
