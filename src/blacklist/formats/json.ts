/**
 * JSON lists, in any of three shapes:
 *
 *   ["203.0.113.7", "2001:db8::/32", "pool.example:3333"]
 *   [{"ip": "203.0.113.7", "port": 3333, "coin": "xmr", "pool": "supportxmr"},
 *    {"domain": "pool.example", "port": "3333-3340"}]
 *   {"entries": [...]}   or   {"pools": [...]}      (either array shape inside)
 *
 * Strings are entry values as in CSV cells (entry.ts): an address/CIDR or a name, optional port.
 * Objects have exactly one of address, ip, cidr, domain, host, entry (a string), and optionally
 * port (a number, or a string "3333" / "3333-3340" / "" for any), coin and label (or pool).
 * Other keys are ignored.
 *
 * Errors: JSON that does not parse, or a document of another shape, is one error for the file
 * (with the parser's position as `offset`, a character index, when it gives one) and no entries.
 * For a bad item, the error context's `line` is the item's 1-based index in the array, not a
 * line of the text: once parsed, JSON has no line numbers worth having, and the index finds the
 * item just as well.
 *
 * Hostile input: JSON.parse is iterative in V8 (100,000 nested arrays parse; deeper ones fail
 * with an error, never a stack overflow), and it is wrapped anyway. Items are read two levels
 * deep at most, whatever nesting they hold, so no walk can recurse.
 */
import type { ListParseResult } from '../types.js';
import { ListCollector } from './collect.js';
import { applyPort, parseEntryValue } from './entry.js';
import { parseLabels, typeOf } from './labels.js';

const ENTRY_KEYS = ['address', 'ip', 'cidr', 'domain', 'host', 'entry'];

export function parseJsonList(text: string, source: string): ListParseResult {
  const out = new ListCollector(source);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const pos = /at position (\d+)/.exec(why);
    const msg = `not valid JSON: ${why.length > 200 ? `${why.slice(0, 197)}...` : why}; no entries read`;
    out.error(msg, undefined, pos === null ? undefined : Number(pos[1]));
    return out.result();
  }

  const items = itemsOf(doc);
  if (items === null) {
    out.error(`expected an array of entries, or an object with an "entries" (or "pools") array; found ${typeOf(doc)}; no entries read`);
    return out.result();
  }
  for (let i = 0; i < items.length; i++) readItem(out, items[i], i + 1);
  return out.result();
}

function itemsOf(doc: unknown): unknown[] | null {
  if (Array.isArray(doc)) return doc;
  if (!isObject(doc)) return null;
  const list = own(doc, 'entries') ?? own(doc, 'pools');
  return Array.isArray(list) ? list : null;
}

function readItem(out: ListCollector, item: unknown, index: number): void {
  let value: string;
  let port: unknown;
  let coin: unknown;
  let label: unknown;
  if (typeof item === 'string') {
    value = item.trim();
  } else if (isObject(item)) {
    const keys = ENTRY_KEYS.filter((k) => own(item, k) !== undefined);
    if (keys.length !== 1) {
      out.error(keys.length === 0 ? `item ${index} has none of the keys ${ENTRY_KEYS.join(', ')}` : `item ${index} has several entry keys (${keys.join(', ')}); use one`, index);
      return;
    }
    const v = own(item, keys[0]!);
    if (typeof v !== 'string') {
      out.error(`item ${index}: "${keys[0]}" must be a string, not ${typeOf(v)}`, index);
      return;
    }
    value = v.trim();
    port = own(item, 'port');
    coin = own(item, 'coin');
    label = own(item, 'label') ?? own(item, 'pool');
  } else {
    out.error(`item ${index} is ${typeOf(item)}; expected a string or an object`, index);
    return;
  }

  if (value === '') {
    out.error(`item ${index}: empty entry`, index);
    return;
  }
  const v = parseEntryValue(value, out.source);
  if ('error' in v) {
    out.error(`item ${index}: ${v.error}`, index);
    return;
  }
  const portText = portToText(port);
  if (portText === null) {
    out.error(`item ${index}: port must be a number or a string such as "3333-3340", not ${typeOf(port)}`, index);
    return;
  }
  const portError = applyPort(v, portText, value);
  if (portError !== null) {
    out.error(`item ${index}: ${portError}`, index);
    return;
  }
  const l = parseLabels(coin, label);
  if ('error' in l) {
    out.error(`item ${index}: ${l.error}`, index);
    return;
  }
  if ('address' in v) out.address(v.address, l.labels);
  else out.domain(v.domain.name, v.domain.portLo, v.domain.portHi, l.labels);
  if (v.warning !== null) out.warning(`item ${index}: ${v.warning}`, index);
}

/** The port as text for applyPort ("" = any), or null when it has a type a port cannot have. */
function portToText(port: unknown): string | null {
  if (port === undefined || port === null) return '';
  if (typeof port === 'string') return port.trim();
  if (typeof port === 'number') return Number.isInteger(port) ? String(port) : `${port}`.slice(0, 12);
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own properties only: "constructor" or "__proto__" in a hostile list must not reach Object.prototype. */
function own(o: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}
