/**
 * The optional coin and label of CSV rows and JSON items. Both end up in reports and terminals,
 * and come from lists anyone can publish: control characters (terminal escapes) and unbounded
 * lengths are refused here rather than escaped in every output format.
 */
import type { EntryLabels } from '../types.js';
import { quote } from '../plain.js';

const COIN_RE = /^[a-z0-9][a-z0-9._-]{0,31}$/;
const MAX_LABEL = 200;
// C0 controls, DEL, C1 controls, and the bidi overrides/isolates that reorder text on screen
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/**
 * `coin` and `label` as found (string, or absent as undefined/null/""). Non-strings are errors,
 * since JSON may hand over anything. The coin is lower-cased.
 */
export function parseLabels(coin: unknown, label: unknown): { labels: EntryLabels } | { error: string } {
  const labels: EntryLabels = {};
  if (coin !== undefined && coin !== null) {
    if (typeof coin !== 'string') return { error: `coin must be a string, not ${typeOf(coin)}` };
    const c = coin.trim().toLowerCase();
    if (c !== '') {
      if (!COIN_RE.test(c)) return { error: `bad coin ${quote(coin)} (a ticker such as "xmr", at most 32 characters)` };
      labels.coin = c;
    }
  }
  if (label !== undefined && label !== null) {
    if (typeof label !== 'string') return { error: `label must be a string, not ${typeOf(label)}` };
    const l = label.trim();
    if (l !== '') {
      if (l.length > MAX_LABEL) return { error: `label longer than ${MAX_LABEL} characters: ${quote(l)}` };
      if (CONTROL_RE.test(l)) return { error: `control characters in label ${quote(l)}` };
      labels.label = l;
    }
  }
  return { labels };
}

export function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
