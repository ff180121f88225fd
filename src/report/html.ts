/**
 * `poolwatch report html`: one self-contained HTML file — inline CSS, inline SVG charts drawn
 * here, no script, no web font, no image, no link to anything — that opens from a USB stick or an
 * e-mail attachment without a network. Everything that came from the wire (logins, agents, host
 * names, workers) or from configuration (organisation names, case notes) is HTML-escaped.
 */
import type { Database } from './db.js';
import { humanBytes, poolEndpoint, stripControl } from './format.js';
import { barList, columnChart, esc, lineChart } from './html-charts.js';
import { humanBitrate, humanHashrate } from './hashrate.js';
import { microsToIso } from './query.js';
import {
  buildSummary, coinsView, loadViewData, orgTotals, poolsView, sourcesWithHashrate, timelineView,
  type CoinView, type OrgTotals, type PoolView, type SourceWithHashrate, type Summary, type TimelineBucket, type TimelineUnit,
  type ViewCategory,
} from './views.js';
import { orgName, type CaseRow, type OrgLookup, type ReportProviders } from './views-providers.js';
import { summarySentence } from './views-format.js';
import { HOUR_US } from './views-traffic.js';

export interface HtmlReportOptions {
  runId?: number;
  since?: Date;
  until?: Date;
  category?: ViewCategory;
  /** Customer addresses screened, when the operator knows it. */
  screened?: number | null;
  /** Timeline buckets; default hours for windows up to 72 hours, days beyond. */
  per?: TimelineUnit;
  providers: ReportProviders;
  /** Shown in the header (the database file name, say). */
  source?: string;
  /** For reproducible output in tests; default now. */
  generatedAt?: Date;
  /** Top-N length of the organisation and pool charts. */
  top?: number;
  /** Most source rows in the sources table (the largest by bytes); default 5000. */
  maxSources?: number;
}

export interface HtmlReportData {
  summary: Summary;
  unit: TimelineUnit;
  timeline: TimelineBucket[];
  pools: PoolView[];
  coins: CoinView[];
  sources: SourceWithHashrate[];
  orgs: OrgTotals[] | null;
  cases: CaseRow[] | null;
  orgLookup: OrgLookup | null;
}

/** Everything the page shows, read from the database once. */
export function htmlReportData(db: Database, o: HtmlReportOptions): HtmlReportData {
  const data = loadViewData(db, { runId: o.runId, since: o.since, until: o.until, category: o.category });
  const orgLookup = o.providers.orgs;
  const summary = buildSummary(db, data, orgLookup, o.screened ?? null);
  const span = data.window === null ? 0 : data.window.end - data.window.start;
  const unit: TimelineUnit = o.per ?? (span <= 72 * HOUR_US ? 'hour' : 'day');
  const flagged = new Set(data.rows.map((r) => r.src));
  const sources = sourcesWithHashrate(db, { runId: o.runId, since: o.since, until: o.until }).filter((s) => flagged.has(s.src));
  return {
    summary,
    unit,
    timeline: timelineView(data, unit),
    pools: poolsView(data),
    coins: coinsView(data),
    sources,
    orgs: orgLookup === null ? null : orgTotals(data, orgLookup),
    cases: o.providers.cases,
    orgLookup,
  };
}

export function renderHtmlReport(db: Database, o: HtmlReportOptions): string {
  return renderHtml(htmlReportData(db, o), o);
}

/** Text from anywhere: control and bidi characters dropped, then escaped. */
function t(s: string | null | undefined): string {
  return s === null || s === undefined ? '' : esc(stripControl(s));
}

function any(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' && v > 1e14) return t(microsToIso(v)); // microseconds since the epoch
  if (typeof v === 'number' && v > 1e11) return t(new Date(v).toISOString()); // milliseconds
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v)) return esc(when(v));
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return t(String(v));
  const name = orgName(v);
  if (name !== null) return t(name);
  return t(JSON.stringify(v));
}

const when = (iso: string | null) => (iso === null || iso === '' ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z`);
const n = (x: number) => x.toLocaleString('en-US');

function bucketLabel(iso: string, unit: TimelineUnit): string {
  return unit === 'hour' ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}h` : iso.slice(0, 10);
}

function table(head: readonly string[], rows: readonly string[][], cls = ''): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const listCell = (xs: readonly string[]) => (xs.length === 0 ? '<span class="none">-</span>' : xs.map((x) => t(x)).join('<br>'));

function figure(label: string, value: string, note = ''): string {
  return `<div class="figure"><div class="value">${value}</div><div class="label">${esc(label)}</div>${note ? `<div class="note">${note}</div>` : ''}</div>`;
}

export function renderHtml(d: HtmlReportData, o: Pick<HtmlReportOptions, 'source' | 'generatedAt' | 'top' | 'maxSources'>): string {
  const s = d.summary;
  const top = o.top ?? 10;
  const maxSources = o.maxSources ?? 5000;
  const shownSources = d.sources.slice(0, maxSources);
  const generated = (o.generatedAt ?? new Date()).toISOString();
  const title = `Mining traffic report, ${when(s.window.start)} to ${when(s.window.end)}`;

  const figures = [
    figure('sources screened', s.screened.sources === null ? '–' : n(s.screened.sources), s.screened.sources === null ? 'not recorded' : ''),
    figure('flagged sources', n(s.flaggedSources), `${s.sourcesByCategory.mining} mining, ${s.sourcesByCategory['crypto-p2p']} crypto-p2p, ${s.sourcesByCategory.suspect} suspect`),
    figure('organisations', s.organisations === null ? '–' : n(s.organisations), s.organisations === null ? 'no organisations configured' : `${n(s.unattributedSources ?? 0)} sources outside them`),
    figure('coins', n(s.coins.length), t(s.coins.join(', '))),
    figure('pool endpoints', n(s.poolEndpoints), `${n(s.poolAddresses)} addresses`),
    figure('pool traffic, average', esc(humanBitrate(s.traffic.averageBps)), `${esc(humanBytes(s.traffic.bytes))}${s.traffic.scaled ? ', partly estimated' : ''}`),
    figure('busiest hour', esc(humanBitrate(s.traffic.peakHourBps)), esc(when(s.traffic.peakHour))),
    figure('estimated hash rate', esc(humanHashrate(s.hashrate.hashrate)), `${s.hashrate.methods.shares} from shares, ${s.hashrate.methods.reported} reported, ${s.hashrate.methods.none} unknown`),
  ].join('\n');

  const unitWord = d.unit === 'hour' ? 'hour' : 'day';
  const overTime = d.timeline.length === 0
    ? '<p class="empty">no activity in this window</p>'
    : columnChart(
      d.timeline.map((b) => ({ label: bucketLabel(b.start, d.unit), value: b.flaggedSources, title: `${when(b.start)}: ${b.flaggedSources} flagged, ${b.newSources} new` })),
      { id: 'sources-over-time', label: `Flagged sources per ${unitWord}` },
    );
  const traffic = d.timeline.length === 0
    ? '<p class="empty">no traffic in this window</p>'
    : lineChart(
      d.timeline.map((b) => ({ label: bucketLabel(b.start, d.unit), value: b.averageBps === null ? null : b.averageBps / 1e6, title: `${when(b.start)}: ${humanBitrate(b.averageBps)} average, ${humanBytes(b.bytes)}` })),
      { id: 'traffic', label: `Pool traffic per ${unitWord}, Mbps`, format: (v) => `${v < 10 ? v.toFixed(2) : v.toFixed(0)} Mbps` },
    );

  let orgChart: string;
  if (d.orgs === null) orgChart = '<p class="empty" id="no-orgs">no organisations configured</p>';
  else if (d.orgs.length === 0) orgChart = '<p class="empty" id="no-orgs">no flagged source belongs to a configured organisation</p>';
  else {
    orgChart = barList(
      d.orgs.slice(0, top).map((x) => ({ label: x.name, value: x.sources, title: `${x.name}${x.sector ? ` (${x.sector})` : ''}: ${x.sources} sources, ${humanBytes(x.bytes)}, ${humanHashrate(x.hashrate || null)}` })),
      { id: 'organisations', label: 'Top organisations by flagged sources' },
    );
  }
  const coinChart = d.coins.length === 0
    ? '<p class="empty">no coins</p>'
    : barList(d.coins.map((c) => ({ label: c.coin, value: c.sources, title: `${c.coin}: ${c.sources} sources, ${humanBytes(c.bytes)}, ${humanHashrate(c.hashrate || null)}` })), { id: 'coins', label: 'Coins by flagged sources' });
  const poolChart = d.pools.length === 0
    ? '<p class="empty">no pools</p>'
    : barList(
      d.pools.slice(0, top).map((p) => ({ label: p.hosts[0] ?? poolEndpoint(p), value: p.sources, title: `${poolEndpoint(p)}${p.hosts.length ? ` (${p.hosts.join(', ')})` : ''}: ${p.sources} sources, ${humanBytes(p.bytes)}` })),
      { id: 'pools', label: 'Top pools by flagged sources' },
    );

  const casesHtml = d.cases === null || d.cases.length === 0
    ? '<p class="empty" id="no-cases">no cases</p>'
    : table(
      ['source', 'state', 'organisation', 'opened', 'updated', 'recurrences', 'last seen', 'notes'],
      d.cases.map((c) => [t(c.src), t(c.state), any(c.org) || '<span class="none">-</span>', any(c.openedAt), any(c.updatedAt), any(c.recurrences), any(c.lastSeen), any(c.notes)]),
      'cases',
    );

  const orgOf = (src: string) => {
    const org = d.orgLookup?.lookup(src) ?? null;
    return org === null ? '<span class="none">-</span>' : t(org.name);
  };
  const sourcesHtml = d.sources.length === 0
    ? '<p class="empty">no flagged sources</p>'
    : table(
      ['source', 'organisation', 'category', 'evidence', 'pools', 'coins', 'logins', 'workers', 'agents', 'hash rate', 'method', 'bytes', 'first seen', 'last seen'],
      shownSources.map((r) => [
        t(r.src) + (r.natOutside.length ? `<br><span class="note">nat ${t(r.natOutside.join(', '))}</span>` : ''),
        orgOf(r.src),
        t(r.category),
        listCell(r.evidence),
        listCell(r.pools.map((p) => (p.host ? `${poolEndpoint(p)} (${p.host})` : poolEndpoint(p)))),
        listCell(r.coins),
        listCell(r.logins),
        listCell(r.workers),
        listCell(r.agents),
        `<span class="num">${esc(humanHashrate(r.hashrate))}</span>`,
        t(r.hashrateMethod),
        `<span class="num">${esc(humanBytes(r.bytes))}${r.scaled ? '*' : ''}</span>`,
        esc(when(r.firstSeen)),
        esc(when(r.lastSeen)),
      ]),
      'sources',
    ) + (shownSources.length < d.sources.length
      ? `<p class="note" id="sources-cut">The ${n(shownSources.length)} sources with the most traffic of ${n(d.sources.length)}; <code>poolwatch report sources -f csv</code> lists them all.</p>`
      : '');
  const poolsHtml = d.pools.length === 0
    ? '<p class="empty">no pools</p>'
    : table(
      ['pool', 'hosts', 'sources', 'coins', 'evidence', 'list entries', 'bytes', 'hash rate', 'first seen', 'last seen'],
      d.pools.map((p) => [
        t(poolEndpoint(p)), listCell(p.hosts), `<span class="num">${n(p.sources)}</span>`, listCell(p.coins), listCell(p.evidence), listCell(p.blacklistEntries),
        `<span class="num">${esc(humanBytes(p.bytes))}</span>`, `<span class="num">${esc(p.hashrate > 0 ? humanHashrate(p.hashrate) : '-')}</span>`,
        esc(when(p.firstSeen)), esc(when(p.lastSeen)),
      ]),
      'pools',
    );
  const coinsHtml = d.coins.length === 0
    ? ''
    : table(
      ['coin', 'sources', 'pools', 'algorithms', 'bytes', 'accepted shares', 'hash rate'],
      d.coins.map((c) => [t(c.coin), `<span class="num">${n(c.sources)}</span>`, `<span class="num">${n(c.pools)}</span>`, listCell(c.algos), `<span class="num">${esc(humanBytes(c.bytes))}</span>`, `<span class="num">${n(c.sharesAccepted)}</span>`, `<span class="num">${esc(c.hashrate > 0 ? humanHashrate(c.hashrate) : '-')}</span>`]),
      'coins',
    );

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="poolwatch">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<p class="meta">Category: ${t(s.category)}. Generated ${esc(generated)}${o.source ? ` from ${t(o.source)}` : ''}. Times are UTC, packet times from the captures and flow records.</p>
<p class="sentence" id="sentence">${t(summarySentence(s))}.</p>
</header>
<section id="summary"><h2>Summary</h2>
<div class="figures">
${figures}
</div></section>
<section id="over-time"><h2>Flagged sources per ${unitWord}</h2>
${overTime}
</section>
<section id="traffic-section"><h2>Pool traffic per ${unitWord} (average Mbps)</h2>
${traffic}
</section>
<div class="row">
<section id="orgs-section"><h2>Top organisations</h2>
${orgChart}
</section>
<section id="coins-section"><h2>Coins</h2>
${coinChart}
</section>
<section id="pools-section"><h2>Top pools</h2>
${poolChart}
</section>
</div>
<section id="cases-section"><h2>Cases</h2>
${casesHtml}
</section>
<section id="sources-section"><h2>Flagged sources (${n(d.sources.length)})</h2>
${sourcesHtml}
</section>
<section id="pools-table-section"><h2>Pools (${n(d.pools.length)})</h2>
${poolsHtml}
</section>
<section id="coins-table-section"><h2>Coins (${n(d.coins.length)})</h2>
${coinsHtml}
</section>
<footer>
<h2>How the figures are made</h2>
<ul>
<li><b>Hash rate</b> from shares: accepted shares × share difficulty × hashes per difficulty unit (2<sup>32</sup> for Bitcoin-style Stratum, getwork and NiceHash EthereumStratum; 2<sup>16</sup> for scrypt; 1 for EthProxy/ethash boundaries and CryptoNote targets), divided by the seconds the source was observed. Otherwise the rate the miner reported itself (<code>eth_submitHashrate</code>). Totals add the sources' figures, across algorithms.</li>
<li><b>Traffic</b>: each record's bytes are spread evenly over its first-to-last-seen interval and counted per hour; the average is over the whole window, the busiest hour over the part of that hour inside the window. Counts from sampled flow records are estimates.</li>
<li>Logins, workers, agents and host names are text sent by the miners and pools, shown as sent (escaped).</li>
</ul>
</footer>
</body>
</html>
`;
}

const CSS = `
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d2330;background:#f5f6f8;margin:0;padding:24px 32px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:0 0 10px;color:#2a3550}
header .meta{color:#5b6475;margin:0 0 6px}
.sentence{font-size:15px;margin:0 0 12px}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:14px 16px;margin:0 0 16px;overflow-x:auto}
.row{display:flex;gap:16px;flex-wrap:wrap}
.row section{flex:1 1 360px}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px}
.figure{border:1px solid #e4e7ed;border-radius:6px;padding:10px 12px;background:#fafbfc}
.figure .value{font-size:22px;font-weight:600;color:#1b4f9c}
.figure .label{color:#3c4454}
.figure .note{color:#7a8291;font-size:12px}
svg.chart{max-width:100%;height:auto;display:block}
svg .bar{fill:#3c78d8}
svg .line{fill:none;stroke:#d9534f;stroke-width:2}
svg .point{fill:#d9534f}
svg .grid{stroke:#eceff3;stroke-width:1}
svg .axis{stroke:#9aa3b2;stroke-width:1}
svg text{font-size:11px;fill:#4a5264}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{border-bottom:1px solid #e6e9ee;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f0f2f6;position:sticky;top:0}
td{word-break:break-all}
.num{white-space:nowrap}
.none{color:#9aa3b2}
.note{color:#7a8291;font-size:12px}
.empty{color:#7a8291;font-style:italic}
footer{color:#4a5264;font-size:12.5px}
footer h2{font-size:14px}
code{font-size:12px}
`;
