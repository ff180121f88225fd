/**
 * RFC 4180 records out of text: fields split on ",", quoted fields may hold commas, doubled
 * quotes ("") and line breaks; records end at CRLF, LF or a lone CR. Beyond the RFC, for lists:
 * a BOM is dropped, a line starting with "#" outside a record is a comment, and a quote inside an
 * unquoted field is an ordinary character (a"b stays a"b, as most readers do).
 *
 * Quoting that lies (a stray quote that never closes, text after a closing quote) would make a
 * strict reader swallow everything up to the next quote, possibly the rest of the file. Instead
 * the broken record is returned with an error and reading resumes on the line after the one it
 * started on, so one bad row costs one row. Each such resumption rescans text; a budget on the
 * rescanned characters keeps hostile input linear: once spent, a quoted field may no longer span
 * lines, which bounds every further rescan to one line.
 */

export interface CsvRecord {
  /** 1-based line the record starts on. */
  line: number;
  fields: string[];
  /** Why the record is broken (its fields are then incomplete), or null. */
  error: string | null;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

export function readCsvRecords(text: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let budget = 4 * n + 65536;

  while (i < n) {
    const start = i;
    const startLine = line;
    if (text.charCodeAt(i) === 0x23) {
      // "#" comment: to the end of the physical line
      i = nextLineStart(text, i);
      line++;
      continue;
    }
    const fields: string[] = [];
    let error: string | null = null;
    let reached = i; // furthest index read, for the budget
    for (;;) {
      if (i < n && text.charCodeAt(i) === QUOTE) {
        const q = readQuoted(text, i + 1, budget > 0);
        if ('unclosed' in q) {
          error = 'a quoted field never closes';
          reached = q.unclosed;
          break;
        }
        fields.push(q.value);
        line += q.lines;
        i = reached = q.next;
        if (i < n && !isFieldEnd(text.charCodeAt(i))) {
          error = 'text after a closing quote';
          break;
        }
      } else {
        let j = i;
        while (j < n && !isFieldEnd(text.charCodeAt(j))) j++;
        fields.push(text.slice(i, j));
        i = j;
      }
      if (i < n && text.charCodeAt(i) === COMMA) {
        i++;
        continue;
      }
      break; // end of line or of text: end of record
    }
    if (error !== null) {
      // resume on the line after the record's first line; charge what will be read twice
      const resume = nextLineStart(text, start);
      budget -= Math.max(0, reached - resume);
      out.push({ line: startLine, fields, error });
      i = resume;
      line = startLine + 1;
      continue;
    }
    out.push({ line: startLine, fields, error: null });
    if (i < n) {
      i += text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
    }
  }
  return out;
}

/**
 * The quoted field whose content starts at `from` (just after the opening quote). With
 * `multiline` false, a line break before the closing quote makes it unclosed. Returns the value,
 * the index after the closing quote and the line breaks inside; or where the search gave up.
 */
function readQuoted(text: string, from: number, multiline: boolean): { value: string; next: number; lines: number } | { unclosed: number } {
  const limit = multiline ? text.length : nextLineBreak(text, from);
  let value = '';
  let j = from;
  for (;;) {
    const k = text.indexOf('"', j);
    if (k < 0 || k >= limit) return { unclosed: limit };
    value += text.slice(j, k);
    if (text.charCodeAt(k + 1) === QUOTE) {
      value += '"';
      j = k + 2;
      continue;
    }
    return { value, next: k + 1, lines: countLineBreaks(text, from, k) };
  }
}

function isFieldEnd(c: number): boolean {
  return c === COMMA || c === CR || c === LF;
}

function nextLineBreak(text: string, from: number): number {
  let j = from;
  while (j < text.length && text.charCodeAt(j) !== LF && text.charCodeAt(j) !== CR) j++;
  return j;
}

function nextLineStart(text: string, from: number): number {
  const j = nextLineBreak(text, from);
  if (j >= text.length) return j;
  return text.charCodeAt(j) === CR && text.charCodeAt(j + 1) === LF ? j + 2 : j + 1;
}

function countLineBreaks(text: string, from: number, to: number): number {
  let lines = 0;
  for (let j = from; j < to; j++) {
    const c = text.charCodeAt(j);
    if (c === LF) lines++;
    else if (c === CR) {
      lines++;
      if (text.charCodeAt(j + 1) === LF) j++;
    }
  }
  return lines;
}
