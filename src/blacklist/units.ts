/**
 * Durations and sizes as people write them in YAML and on the command line: "30s", "6h", "7d",
 * "16MiB". One parser for both places, so `--expires 2d` and `refreshInterval: 2d` mean the same.
 */

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/;
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Milliseconds from "90", "90s", "15m", "6h", "1d", "2w" (a bare number is seconds), or from a
 * number of seconds; null when the text is not a duration. Zero is allowed (callers set limits).
 */
export function parseDurationMs(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v * 1000) : null;
  if (typeof v !== 'string') return null;
  const m = DURATION_RE.exec(v.trim());
  if (m === null) return null;
  return Math.round(Number(m[1]) * DURATION_UNIT_MS[m[2] ?? 's']!);
}

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/i;
const SIZE_UNIT: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };

/** Bytes from 1048576, "512KiB", "16MiB", "1GB"; null when it is not a size. */
export function parseSize(v: unknown): number | null {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : null;
  if (typeof v !== 'string') return null;
  const m = SIZE_RE.exec(v.trim());
  if (m === null) return null;
  return Math.floor(Number(m[1]) * SIZE_UNIT[(m[2] ?? 'b').toLowerCase()]!);
}

/** 21600000 → "6h", 90000 → "90s": the largest unit that divides evenly, for messages. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
