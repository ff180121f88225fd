/**
 * The exporters a decoder knows, in two tiers, so that a flood of new source addresses (spoofed
 * or not) cannot push out the routers that were already exporting:
 *
 * - probation: every address starts here, on its first datagram with a flow export header;
 * - established: an address whose records came in two datagrams (two more for each datagram of
 *   garbage it sent) moves here while there is room (3/4 of maxExporters). An established
 *   exporter keeps its place as long as it goes on exporting: only one silent for
 *   establishedIdleMs gives it up to a newcomer, and one that sends garbage goes back.
 *
 * Each tier is kept in least-recently-heard order (Map insertion order, re-inserted per
 * datagram). Whatever a cap takes (maxExporters, maxDomains, and maxTemplateBytes in
 * templates.ts) it takes from the least recently heard exporter in probation first, and from the
 * established ones only when no newcomer is left. A crowd of fake exporters churns among itself.
 *
 * So the routers that were exporting when a flood starts keep their templates through it. Limit:
 * an attacker who can spoof source addresses and sends well-formed records from each of them
 * takes the free established places like a router would (a router that appears only during such
 * a flood may then stay in probation); pin routers by address on the network (an ACL on the
 * collector port) when that matters.
 */
import { dropPending } from './pending.js';
import { domainKey, DomainState, ExporterState, type DecoderLimits, type ExporterTableRef, type Run, type Totals } from './state.js';
import { dropAllTemplates, dropDomainTemplates } from './templates.js';

export class ExporterTable implements ExporterTableRef {
  readonly probation = new Map<string, ExporterState>();
  readonly established = new Map<string, ExporterState>();
  /** Most established exporters kept: a quarter of maxExporters stays for newcomers. */
  private readonly maxEstablished: number;

  constructor(
    readonly limits: DecoderLimits,
    readonly totals: Totals,
  ) {
    this.maxEstablished = Math.max(1, limits.maxExporters - Math.max(1, Math.floor(limits.maxExporters / 4)));
  }

  /** The state of a known address, without marking it heard (garbage from it is only counted). */
  peek(address: string): ExporterState | undefined {
    return this.established.get(address) ?? this.probation.get(address);
  }

  /** Every exporter: established first, each tier least recently heard first. */
  *all(): IterableIterator<ExporterState> {
    yield* this.established.values();
    yield* this.probation.values();
  }

  /** The exporter's state, marked heard now; a new one enters probation and may evict another. */
  heard(address: string, nowMs: number, run: Run): ExporterState {
    let exp = this.established.get(address);
    if (exp !== undefined) {
      this.established.delete(address);
      this.established.set(address, exp);
      exp.lastHeardMs = nowMs;
      return exp;
    }
    exp = this.probation.get(address);
    if (exp !== undefined) {
      this.probation.delete(address);
      this.probation.set(address, exp);
      exp.lastHeardMs = nowMs;
      return exp;
    }
    exp = new ExporterState(address, this);
    exp.lastHeardMs = nowMs;
    this.probation.set(address, exp);
    this.totals.exporters++;
    while (this.probation.size + this.established.size > this.limits.maxExporters) {
      const old = first(this.probation, exp) ?? first(this.established, exp);
      if (old === undefined) break;
      this.evictExporter(old, run);
    }
    return exp;
  }

  /**
   * After a datagram: one that delivered records counts towards establishing its exporter, which
   * moves up when there is room, or when the least recently heard established exporter has been
   * silent for establishedIdleMs (that one goes back to probation).
   */
  delivered(exp: ExporterState, records: number): void {
    if (records === 0 || exp.established) return;
    if (++exp.recordDatagrams < 2 + exp.garbage) return;
    if (this.established.size >= this.maxEstablished) {
      const idle = this.established.values().next().value as ExporterState;
      if (!(exp.lastHeardMs - idle.lastHeardMs >= this.limits.establishedIdleMs)) return; // full: try again later
      this.demote(idle);
    }
    this.probation.delete(exp.address);
    this.established.set(exp.address, exp);
    exp.established = true;
    this.totals.established++;
  }

  /** Garbage from an exporter: counted on it, and an established one goes back to probation. */
  garbage(exp: ExporterState): void {
    exp.garbage++;
    if (exp.established) this.demote(exp);
  }

  /** Back to probation, as the most recently heard there: it has to prove itself again. */
  private demote(exp: ExporterState): void {
    this.established.delete(exp.address);
    this.probation.set(exp.address, exp);
    exp.established = false;
    exp.recordDatagrams = 0;
    this.totals.established--;
  }

  /** The domain's state, most recently used now; caps per exporter and over all exporters. */
  domain(exp: ExporterState, version: 5 | 9 | 10, domain: number, run: Run): DomainState {
    const key = domainKey(version, domain);
    let dom = exp.domains.get(key);
    if (dom !== undefined) {
      exp.domains.delete(key);
      exp.domains.set(key, dom);
      return dom;
    }
    dom = new DomainState(exp.address, version, domain);
    exp.domains.set(key, dom);
    this.totals.domains++;
    while (exp.domains.size > this.limits.maxDomainsPerExporter) this.evictDomain(exp, exp.domains.values().next().value as DomainState, run);
    while (this.totals.domains > this.limits.maxDomains) {
      if (!this.takeDomain(exp, dom, run)) break;
    }
    return dom;
  }

  /**
   * One domain less, over all exporters: the least recently used domain of the least recently
   * heard exporter in probation (then established), never `keep`; an exporter left without a
   * domain is forgotten. False when there is nothing else to take.
   */
  private takeDomain(exp: ExporterState, keep: DomainState, run: Run): boolean {
    for (const tier of [this.probation, this.established]) {
      for (const c of tier.values()) {
        const d = c.domains.values().next().value as DomainState | undefined;
        if (d === keep) continue; // `exp` with no other domain
        if (d === undefined) {
          if (c === exp) continue;
          this.evictExporter(c, run);
          return true;
        }
        this.evictDomain(c, d, run);
        if (c.domains.size === 0 && c !== exp) this.evictExporter(c, run);
        return true;
      }
    }
    return false;
  }

  private evictDomain(exp: ExporterState, dom: DomainState, run: Run): void {
    exp.domains.delete(dom.key);
    dropPending(exp, run, dom);
    dropDomainTemplates(exp, dom);
    this.totals.domains--;
    this.totals.domainsEvicted++;
  }

  private evictExporter(exp: ExporterState, run: Run): void {
    (exp.established ? this.established : this.probation).delete(exp.address);
    if (exp.established) this.totals.established--;
    dropPending(exp, run);
    dropAllTemplates(exp);
    this.totals.domains -= exp.domains.size;
    this.totals.exporters--;
    this.totals.exportersEvicted++;
  }
}

/** The first (least recently heard) exporter of a tier other than `not`. */
function first(tier: Map<string, ExporterState>, not: ExporterState): ExporterState | undefined {
  for (const e of tier.values()) if (e !== not) return e;
  return undefined;
}
