/** Reading a text list line by line, the same way in every format (no imports: plain.ts uses it too). */

/** Lines of a text list: BOM dropped (Windows editors), CRLF, LF and lone CR all end a line. */
export function splitLines(text: string): string[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.split(/\r\n|\n|\r/);
}

/** What a list line says: its `#` comment cut off, blanks trimmed ('' for nothing). */
export function lineContent(raw: string): string {
  const hash = raw.indexOf('#');
  return (hash < 0 ? raw : raw.slice(0, hash)).trim();
}
