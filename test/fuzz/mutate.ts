/**
 * Structure-aware mutation of valid inputs, as fast-check arbitraries: a case is a seed (an index
 * into a corpus of real, valid inputs) plus a short list of mutations described as data, so that
 * fast-check can shrink a failure to the fewest, smallest mutations of the simplest seed.
 *
 * Binary inputs are described as a head and a list of units (pcap records, pcapng blocks, NetFlow
 * flowsets, DNS records, ...), each with the positions of its length, count and type fields.
 * Structural mutations work on that description: duplicate, drop, swap or repeat units, splice in
 * a unit of another seed, lie in a length or count field (0, 1, off by one, all ones, huge). Byte
 * mutations then work on the serialised bytes: flip a bit, set a byte, write an interesting
 * 16/32-bit value anywhere, insert, delete, duplicate a range, truncate.
 *
 * Text inputs are lines: duplicate, drop, swap or splice lines, then insert tokens from a
 * dictionary (the format's own syntax plus hostile characters), delete, duplicate, truncate,
 * pad a line to a length boundary.
 */
import fc from 'fast-check';

// ------------------------------------------------------------------------------------------------
// Binary

/** A field of a unit: where it is, its width and byte order, and what kind of value it holds. */
export interface Field {
  off: number;
  size: 1 | 2 | 4;
  le?: boolean;
  kind?: 'len' | 'count' | 'type' | 'other';
}

export interface Unit {
  bytes: Uint8Array;
  fields: Field[];
}

/** A valid input: a head (file or message header), units, and a tail. */
export interface Seed {
  name: string;
  head: Unit;
  units: Unit[];
  tail?: Uint8Array;
}

export function unit(bytes: Uint8Array, fields: Field[] = []): Unit {
  return { bytes, fields };
}

/** A seed with no inner structure (a frame, a message): its fields are the head's. */
export function whole(name: string, bytes: Uint8Array, fields: Field[] = []): Seed {
  return { name, head: unit(bytes, fields), units: [] };
}

export function serialise(s: Seed): Uint8Array {
  let n = s.head.bytes.length + (s.tail?.length ?? 0);
  for (const u of s.units) n += u.bytes.length;
  const out = new Uint8Array(n);
  out.set(s.head.bytes, 0);
  let o = s.head.bytes.length;
  for (const u of s.units) {
    out.set(u.bytes, o);
    o += u.bytes.length;
  }
  if (s.tail) out.set(s.tail, o);
  return out;
}

/** What a lie writes into a field, relative to the value it holds. */
export type Lie = 'zero' | 'one' | 'minus1' | 'plus1' | 'plus4' | 'double' | 'max' | 'huge' | 'rand';

export type StructOp =
  | { k: 'dup'; i: number }
  | { k: 'drop'; i: number }
  | { k: 'swap'; i: number; j: number }
  | { k: 'repeat'; i: number; times: number }
  | { k: 'splice'; i: number; from: number; j: number }
  | { k: 'lie'; u: number; f: number; lie: Lie; r: number };

export type ByteOp =
  | { k: 'flip'; at: number; bit: number }
  | { k: 'set'; at: number; v: number }
  | { k: 'word'; at: number; size: 1 | 2 | 4; v: number }
  | { k: 'ins'; at: number; bytes: Uint8Array }
  | { k: 'del'; at: number; n: number }
  | { k: 'dupRange'; at: number; n: number; times: number }
  | { k: 'trunc'; at: number };

export interface BinaryCase {
  seed: number;
  struct: StructOp[];
  bytes: ByteOp[];
}

/** Values every mutator likes: the edges of each width. */
const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 15, 16, 20, 24, 28, 32, 40, 64, 127, 128, 255, 256, 512, 1000, 1024, 1500, 4096, 0x7fff, 0x8000, 0xfffe, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

const LIES: Lie[] = ['zero', 'one', 'minus1', 'plus1', 'plus4', 'double', 'max', 'huge', 'rand'];

function structOp(maxRepeat: number): fc.Arbitrary<StructOp> {
  const idx = fc.nat(1 << 16);
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ k: fc.constant('lie' as const), u: fc.integer({ min: -1, max: 1 << 16 }), f: idx, lie: fc.constantFrom(...LIES), r: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('dup' as const), i: idx }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('drop' as const), i: idx }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('swap' as const), i: idx, j: idx }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('repeat' as const), i: idx, times: fc.integer({ min: 2, max: maxRepeat }) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('splice' as const), i: idx, from: idx, j: idx }) },
  );
}

function byteOp(): fc.Arbitrary<ByteOp> {
  const at = fc.nat();
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ k: fc.constant('flip' as const), at, bit: fc.nat(7) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('set' as const), at, v: fc.nat(255) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('word' as const), at, size: fc.constantFrom(1 as const, 2 as const, 4 as const), v: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat()) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('ins' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('del' as const), at, n: fc.integer({ min: 1, max: 64 }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('dupRange' as const), at, n: fc.integer({ min: 1, max: 64 }), times: fc.integer({ min: 1, max: 8 }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('trunc' as const), at }) },
  );
}

export interface BinaryArbOptions {
  maxStruct?: number;
  maxBytes?: number;
  /** Most copies a 'repeat' adds (a "huge count" of records). */
  maxRepeat?: number;
}

/** Cases over a corpus: sometimes the seed as it is, usually a few mutations of it. */
export function binaryCase(corpus: readonly Seed[], o: BinaryArbOptions = {}): fc.Arbitrary<BinaryCase> {
  return fc.record({
    seed: fc.nat(corpus.length - 1),
    struct: fc.array(structOp(o.maxRepeat ?? 40), { maxLength: o.maxStruct ?? 3 }),
    bytes: fc.array(byteOp(), { maxLength: o.maxBytes ?? 3 }),
  });
}

function readField(b: Uint8Array, f: Field): number {
  if (f.off + f.size > b.length) return 0;
  if (f.size === 1) return b[f.off]!;
  if (f.size === 2) return f.le ? b[f.off]! | (b[f.off + 1]! << 8) : (b[f.off]! << 8) | b[f.off + 1]!;
  const v = f.le
    ? b[f.off]! | (b[f.off + 1]! << 8) | (b[f.off + 2]! << 16) | (b[f.off + 3]! << 24)
    : (b[f.off]! << 24) | (b[f.off + 1]! << 16) | (b[f.off + 2]! << 8) | b[f.off + 3]!;
  return v >>> 0;
}

function writeWord(b: Uint8Array, off: number, size: 1 | 2 | 4, v: number, le = false): void {
  for (let k = 0; k < size; k++) {
    if (off + k < 0 || off + k >= b.length) continue;
    const shift = le ? 8 * k : 8 * (size - 1 - k);
    b[off + k] = Math.floor(v / 2 ** shift) & 0xff;
  }
}

function lieValue(old: number, size: 1 | 2 | 4, lie: Lie, r: number): number {
  const max = size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  switch (lie) {
    case 'zero':
      return 0;
    case 'one':
      return 1;
    case 'minus1':
      return (old - 1 + max + 1) % (max + 1);
    case 'plus1':
      return (old + 1) % (max + 1);
    case 'plus4':
      return (old + 4) % (max + 1);
    case 'double':
      return (old * 2) % (max + 1);
    case 'max':
      return max;
    case 'huge':
      return size === 1 ? 0x80 : size === 2 ? 0x8000 : 0x7fffffff;
    case 'rand':
      return r % (max + 1);
  }
}

function copyUnit(u: Unit): Unit {
  return { bytes: Uint8Array.from(u.bytes), fields: u.fields };
}

/** Apply the structural mutations to a copy of the seed, then the byte mutations. */
export function applyBinary(corpus: readonly Seed[], c: BinaryCase): Uint8Array {
  const src = corpus[c.seed % corpus.length]!;
  const s: Seed = { name: src.name, head: copyUnit(src.head), units: src.units.map(copyUnit), tail: src.tail };
  for (const op of c.struct) {
    const n = s.units.length;
    switch (op.k) {
      case 'dup':
        if (n > 0) s.units.splice((op.i % n) + 1, 0, copyUnit(s.units[op.i % n]!));
        break;
      case 'drop':
        if (n > 0) s.units.splice(op.i % n, 1);
        break;
      case 'swap':
        if (n > 1) {
          const a = op.i % n;
          const b = op.j % n;
          [s.units[a], s.units[b]] = [s.units[b]!, s.units[a]!];
        }
        break;
      case 'repeat':
        if (n > 0) {
          const u = s.units[op.i % n]!;
          s.units.splice((op.i % n) + 1, 0, ...Array.from({ length: op.times }, () => copyUnit(u)));
        }
        break;
      case 'splice': {
        const other = corpus[op.from % corpus.length]!;
        if (other.units.length > 0) s.units.splice(n === 0 ? 0 : op.i % (n + 1), 0, copyUnit(other.units[op.j % other.units.length]!));
        break;
      }
      case 'lie': {
        const u = op.u < 0 || n === 0 ? s.head : s.units[op.u % n]!;
        if (u.fields.length === 0) break;
        const f = u.fields[op.f % u.fields.length]!;
        writeWord(u.bytes, f.off, f.size, lieValue(readField(u.bytes, f), f.size, op.lie, op.r), f.le);
        break;
      }
    }
  }
  let b = serialise(s);
  for (const op of c.bytes) b = byteMutation(b, op);
  return b;
}

function byteMutation(b: Uint8Array, op: ByteOp): Uint8Array {
  const n = b.length;
  switch (op.k) {
    case 'flip':
      if (n > 0) b[op.at % n]! ^= 1 << op.bit;
      return b;
    case 'set':
      if (n > 0) b[op.at % n] = op.v;
      return b;
    case 'word':
      if (n > 0) writeWord(b, op.at % n, op.size, op.v >>> 0);
      return b;
    case 'ins': {
      const at = op.at % (n + 1);
      const out = new Uint8Array(n + op.bytes.length);
      out.set(b.subarray(0, at), 0);
      out.set(op.bytes, at);
      out.set(b.subarray(at), at + op.bytes.length);
      return out;
    }
    case 'del': {
      if (n === 0) return b;
      const at = op.at % n;
      const out = new Uint8Array(n - Math.min(op.n, n - at));
      out.set(b.subarray(0, at), 0);
      out.set(b.subarray(at + op.n), at);
      return out;
    }
    case 'dupRange': {
      if (n === 0) return b;
      const at = op.at % n;
      const piece = b.subarray(at, Math.min(n, at + op.n));
      const out = new Uint8Array(n + piece.length * op.times);
      out.set(b.subarray(0, at + piece.length), 0);
      for (let t = 0; t < op.times; t++) out.set(piece, at + piece.length * (t + 1));
      out.set(b.subarray(at + piece.length), at + piece.length * (op.times + 1));
      return out;
    }
    case 'trunc':
      return b.subarray(0, op.at % (n + 1));
  }
}

/** Chunk sizes for push-driven readers: 1..n bytes, shrinking towards whole input. */
export function chunking(): fc.Arbitrary<number[]> {
  return fc.array(fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 4096 })), { minLength: 0, maxLength: 12 });
}

/** Split `b` by `sizes` (cycled); [] means one chunk. */
export function chunks(b: Uint8Array, sizes: number[]): Uint8Array[] {
  if (sizes.length === 0) return [b];
  const out: Uint8Array[] = [];
  for (let pos = 0, i = 0; pos < b.length; i++) {
    const k = Math.max(1, sizes[i % sizes.length]!);
    out.push(b.subarray(pos, pos + k));
    pos += k;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Text

export type LineOp =
  | { k: 'dup'; i: number }
  | { k: 'drop'; i: number }
  | { k: 'swap'; i: number; j: number }
  | { k: 'splice'; i: number; from: number; j: number }
  | { k: 'repeat'; i: number; times: number };

export type CharOp =
  | { k: 'ins'; at: number; tok: number }
  | { k: 'del'; at: number; n: number }
  | { k: 'dup'; at: number; n: number; times: number }
  | { k: 'trunc'; at: number }
  | { k: 'char'; at: number; c: number }
  | { k: 'pad'; line: number; to: number; tok: number };

export interface TextCase {
  seed: number;
  lines: LineOp[];
  chars: CharOp[];
  /** Line end used to join: \n, \r\n or \r. */
  eol: number;
}

/** Characters and tokens that break text formats, whatever the format. */
export const HOSTILE = [
  '\n', '\r', '\r\n', '\t', ' ', '\u0000', '\u0001', '\u001b[31m', '\u007f', '\u0085', '\u00a0', '\u2028', '\u202e', '\ufeff', '\ud800', '\udc00',
  '"', "'", '\\', ',', ';', ':', '::', '.', '..', '/', '#', '!', '[', ']', '{', '}', '|', '^', '$', '*', '%', '@', '&', '=', '-', '+', '~', '?',
  '0', '00', '-1', '65535', '65536', '4294967296', '99999999999999999999', '1e309', 'NaN', '0x10', '1.5',
  'ö', 'ß', 'İ', 'Ⅷ', 'ﬀ', '😀', 'xn--', 'xn--zz', '__proto__', 'constructor', 'null', 'true', '[]', '{}',
];

/** Lengths around which bounded readers change behaviour (line, head and name limits). */
export const BOUNDARIES = [63, 64, 253, 254, 255, 256, 1023, 1024, 4095, 4096, 8191, 8192, 8193, 8195, 8196, 16383, 16384, 16385, 65535, 65536, 65537];

export interface TextArbOptions {
  maxLines?: number;
  maxChars?: number;
  /** Add 'pad a line to a boundary length' mutations (for readers with length limits). */
  pad?: boolean;
  /** The lengths to pad to (default BOUNDARIES). */
  boundaries?: readonly number[];
}

export function textCase(corpus: readonly string[], dict: readonly string[], o: TextArbOptions = {}): fc.Arbitrary<TextCase> {
  const idx = fc.nat(1 << 16);
  const tok = fc.nat(dict.length + HOSTILE.length - 1);
  const lineOp: fc.Arbitrary<LineOp> = fc.oneof(
    fc.record({ k: fc.constant('dup' as const), i: idx }),
    fc.record({ k: fc.constant('drop' as const), i: idx }),
    fc.record({ k: fc.constant('swap' as const), i: idx, j: idx }),
    fc.record({ k: fc.constant('splice' as const), i: idx, from: idx, j: idx }),
    fc.record({ k: fc.constant('repeat' as const), i: idx, times: fc.integer({ min: 2, max: 50 }) }),
  );
  const charOps: fc.Arbitrary<CharOp>[] = [
    fc.record({ k: fc.constant('ins' as const), at: fc.nat(), tok }),
    fc.record({ k: fc.constant('ins' as const), at: fc.nat(), tok }),
    fc.record({ k: fc.constant('del' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ k: fc.constant('dup' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 32 }), times: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ k: fc.constant('trunc' as const), at: fc.nat() }),
    fc.record({ k: fc.constant('char' as const), at: fc.nat(), c: fc.integer({ min: 0, max: 0x2fff }) }),
  ];
  if (o.pad) charOps.push(fc.record({ k: fc.constant('pad' as const), line: idx, to: fc.constantFrom(...(o.boundaries ?? BOUNDARIES)), tok }));
  return fc.record({
    seed: fc.nat(corpus.length - 1),
    lines: fc.array(lineOp, { maxLength: o.maxLines ?? 3 }),
    chars: fc.array(fc.oneof(...charOps), { maxLength: o.maxChars ?? 4 }),
    eol: fc.constantFrom(0, 0, 0, 1, 2),
  });
}

const EOLS = ['\n', '\r\n', '\r'];

export function applyText(corpus: readonly string[], dict: readonly string[], c: TextCase): string {
  const src = corpus[c.seed % corpus.length]!;
  const lines = src.split(/\r\n|\n|\r/);
  for (const op of c.lines) {
    const n = lines.length;
    switch (op.k) {
      case 'dup':
        lines.splice((op.i % n) + 1, 0, lines[op.i % n]!);
        break;
      case 'drop':
        if (n > 1) lines.splice(op.i % n, 1);
        break;
      case 'swap': {
        const a = op.i % n;
        const b = op.j % n;
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        break;
      }
      case 'splice': {
        const other = corpus[op.from % corpus.length]!.split(/\r\n|\n|\r/);
        lines.splice(op.i % (n + 1), 0, other[op.j % other.length]!);
        break;
      }
      case 'repeat':
        lines.splice((op.i % n) + 1, 0, ...Array.from({ length: op.times }, () => lines[op.i % n]!));
        break;
    }
  }
  let t = lines.join(EOLS[c.eol % 3]);
  const token = (i: number) => (i < dict.length ? dict[i]! : HOSTILE[i - dict.length]!);
  for (const op of c.chars) {
    const n = t.length;
    switch (op.k) {
      case 'ins': {
        const at = op.at % (n + 1);
        t = t.slice(0, at) + token(op.tok) + t.slice(at);
        break;
      }
      case 'del': {
        if (n === 0) break;
        const at = op.at % n;
        t = t.slice(0, at) + t.slice(at + op.n);
        break;
      }
      case 'dup': {
        if (n === 0) break;
        const at = op.at % n;
        const piece = t.slice(at, at + op.n);
        t = t.slice(0, at) + piece.repeat(op.times + 1) + t.slice(at + piece.length);
        break;
      }
      case 'trunc':
        t = t.slice(0, op.at % (n + 1));
        break;
      case 'char': {
        if (n === 0) break;
        const at = op.at % n;
        t = t.slice(0, at) + String.fromCharCode(op.c) + t.slice(at + 1);
        break;
      }
      case 'pad': {
        // Grow one line to exactly `to` characters by repeating a token inside it (before its
        // last character, so a line's syntax end stays where it was).
        const ls = t.split('\n');
        const i = op.line % ls.length;
        const l = ls[i]!;
        if (l.length >= op.to) break;
        const fill = token(op.tok).replace(/[\r\n]/g, '') || 'a';
        const cut = Math.max(0, Math.floor(l.length / 2));
        const need = op.to - l.length;
        ls[i] = l.slice(0, cut) + fill.repeat(Math.ceil(need / fill.length)).slice(0, need) + l.slice(cut);
        t = ls.join('\n');
        break;
      }
    }
  }
  return t;
}

// ------------------------------------------------------------------------------------------------
// JSON

/** Raw JSON texts a mutation may put in place of any value: types a reader does not expect. */
export const JSON_VALUES = [
  'null', 'true', 'false', '0', '-1', '1', '0.5', '1e999', '-1e999', '1e-400', '9007199254740993', '""', '"x"', '[]', '{}', '[[]]', '[null]', '{"":{}}',
  '"0x"', '"0x00000000ffff0000000000000000000000000000000000000000000000000000"', '"ffffffff"', '"00000000"', '"0000000000000000"', '"b88d0600"',
  `"${'a'.repeat(63)}"`, `"${'a'.repeat(64)}"`, `"${'0'.repeat(64)}"`, `"0x${'0'.repeat(64)}"`, `"${'f'.repeat(160)}"`, `"${'x'.repeat(300)}"`, `"${'9'.repeat(600)}"`,
  '"mining.subscribe"', '"mining.notify"', '"mining.submit"', '"mining.authorize"', '"mining.set_difficulty"', '"mining.set_target"', '"mining.hello"',
  '"eth_submitLogin"', '"eth_getWork"', '"eth_submitWork"', '"eth_submitHashrate"', '"login"', '"submit"', '"job"', '"getjob"', '"keepalived"',
  '"getwork"', '"getblocktemplate"', '"get_block_template"', '"submitblock"', '"EthereumStratum/1.0.0"', '"OK"', '"eth1.0"', '"x"', '"__proto__"',
  '"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq.rig1"', '"pool.example.org"', '"stratum+tcp://pool.example:3333"', '"\\u0000\\u001b[2J"', '"\\ud800"',
];

/** Keys a mutation may add. */
export const JSON_KEYS = ['id', 'method', 'params', 'result', 'error', 'jsonrpc', 'worker', 'job', 'blob', 'job_id', 'target', 'login', 'pass', 'agent', 'algo', 'status', 'proto', 'host', 'rigid', 'nonce', 'difficulty', 'blocktemplate_blob', 'data', 'transactions', 'coinbasevalue', '__proto__'];

/** Edge values of each JSON type: what a lie about a field keeps the type of. */
const JSON_EDGES: Record<string, string[]> = {
  number: ['0', '-0', '-1', '1e999', '-1e999', '1e-400', '0.5', '9007199254740993', '4294967296', '65536'],
  string: ['""', `"${'a'.repeat(300)}"`, '"0x"', '"\\u0000"', '"ffffffff"', `"${'0'.repeat(64)}"`, `"0x${'f'.repeat(64)}"`, '" "'],
  boolean: ['true', 'false', 'null'],
  object: ['{}', '[]', 'null'],
};

export type JsonOp =
  | { k: 'replace'; node: number; v: number }
  | { k: 'edge'; node: number; v: number }
  | { k: 'delete'; node: number }
  | { k: 'add'; node: number; key: number; v: number }
  | { k: 'wrap'; node: number };

export interface JsonCase {
  seed: number;
  ops: JsonOp[];
  /** Text mutations after serialising (few). */
  text: TextCase | null;
}

export function jsonCase(corpus: readonly string[], dict: readonly string[]): fc.Arbitrary<JsonCase> {
  const node = fc.nat();
  const v = fc.nat(JSON_VALUES.length - 1);
  return fc.record({
    seed: fc.nat(corpus.length - 1),
    ops: fc.array(
      fc.oneof(
        { weight: 3, arbitrary: fc.record({ k: fc.constant('replace' as const), node, v }) },
        { weight: 3, arbitrary: fc.record({ k: fc.constant('edge' as const), node, v: fc.nat(15) }) },
        { weight: 2, arbitrary: fc.record({ k: fc.constant('delete' as const), node }) },
        { weight: 2, arbitrary: fc.record({ k: fc.constant('add' as const), node, key: fc.nat(JSON_KEYS.length - 1), v }) },
        { weight: 1, arbitrary: fc.record({ k: fc.constant('wrap' as const), node }) },
      ),
      { maxLength: 4 },
    ),
    text: fc.option(textCase(['{}'], dict, { maxLines: 0, maxChars: 2 }), { freq: 4 }),
  });
}

const RAW = '\u0000raw:';

/** Apply tree mutations to the seed's JSON (values spliced in as raw text), then text mutations. */
export function applyJson(corpus: readonly string[], dict: readonly string[], c: JsonCase): string {
  const src = corpus[c.seed % corpus.length]!;
  let doc: unknown;
  try {
    doc = JSON.parse(src);
  } catch {
    doc = src;
  }
  // Containers in pre-order; node n picks one of them (or the root's children by index).
  for (const op of c.ops) {
    const nodes: { parent: unknown[] | Record<string, unknown>; key: string | number }[] = [];
    const walk = (x: unknown, depth: number) => {
      if (depth > 6 || x === null || typeof x !== 'object') return;
      if (Array.isArray(x)) x.forEach((y, i) => (nodes.push({ parent: x, key: i }), walk(y, depth + 1)));
      else for (const k of Object.keys(x)) nodes.push({ parent: x as Record<string, unknown>, key: k }), walk((x as Record<string, unknown>)[k], depth + 1);
    };
    walk(doc, 0);
    if (nodes.length === 0) {
      if (op.k === 'replace' || op.k === 'edge') doc = RAW + JSON_VALUES[op.v % JSON_VALUES.length];
      continue;
    }
    const n = nodes[op.node % nodes.length]!;
    const p = n.parent as Record<string | number, unknown>;
    switch (op.k) {
      case 'replace':
        p[n.key] = RAW + JSON_VALUES[op.v];
        break;
      case 'edge': {
        const old = p[n.key];
        const t = typeof old === 'string' && old.startsWith(RAW) ? 'string' : old === null ? 'object' : typeof old;
        const edges = JSON_EDGES[t] ?? JSON_EDGES.object!;
        p[n.key] = RAW + edges[op.v % edges.length];
        break;
      }
      case 'delete':
        if (Array.isArray(n.parent)) n.parent.splice(n.key as number, 1);
        else delete p[n.key];
        break;
      case 'add':
        if (Array.isArray(n.parent)) n.parent.push(RAW + JSON_VALUES[op.v]);
        else Object.defineProperty(p, JSON_KEYS[op.key]!, { value: RAW + JSON_VALUES[op.v], enumerable: true, configurable: true, writable: true });
        break;
      case 'wrap':
        p[n.key] = [p[n.key]];
        break;
    }
  }
  let text = JSON.stringify(doc, (_k, v) => v) ?? 'null';
  // Raw values were strings "\u0000raw:<json>" in the tree: put their JSON text in place.
  text = text.replace(/"\\u0000raw:((?:[^"\\]|\\.)*)"/g, (_m, inner: string) => JSON.parse(`"${inner}"`) as string);
  if (c.text !== null) text = applyText([text], dict, { ...c.text, seed: 0 });
  return text;
}
