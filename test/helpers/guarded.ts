/**
 * A Buffer whose index reads outside [lo, hi) throw: proof that a decoder stays inside the packet
 * it was given (caplen), whatever the length fields in it say.
 */
export function guarded(buf: Buffer, lo: number, hi: number): Buffer {
  return new Proxy(buf, {
    get(target, prop) {
      if (typeof prop === 'string') {
        const c = prop.charCodeAt(0);
        if ((c >= 48 && c <= 57) || c === 45) {
          const i = Number(prop);
          if (Number.isInteger(i) && (i < lo || i >= hi)) throw new Error(`decoder read byte ${i} outside the packet [${lo}, ${hi})`);
        }
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
