import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/report/db.js';
import { humanHashrate } from '../src/report/hashrate.js';
import { esc } from '../src/report/html-charts.js';
import { htmlReportData, renderHtml, type HtmlReportData } from '../src/report/html.js';
import { NO_PROVIDERS } from '../src/report/views-providers.js';
import { CHROMIUM, pageRequests, runChromium } from './helpers/chromium.js';
import { cli } from './helpers/cli.js';
import { buildDemoDb, demoOrgs, HOSTILE_AGENT, HOSTILE_HOST, HOSTILE_LOGIN, type DemoInfo } from './helpers/demo-db.js';

const GENERATED = new Date('2024-03-04T06:00:00Z');

let dir: string;
let dbPath: string;
let info: DemoInfo;
let data: HtmlReportData;
let html: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-html-'));
  dbPath = join(dir, 'demo.db');
  info = buildDemoDb(dbPath);
  const db = openDatabase(dbPath, { readonly: true });
  data = htmlReportData(db, { providers: { orgs: demoOrgs, cases: info.cases }, screened: 4699 });
  db.close();
  html = renderHtml(data, { source: 'demo.db', generatedAt: GENERATED });
  file = join(dir, 'report.html');
  writeFileSync(file, html);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The inner markup of `<svg … data-chart="id">…</svg>`. */
function chart(dom: string, id: string): string {
  const m = new RegExp(`<svg[^>]*data-chart="${id}"[^>]*>([\\s\\S]*?)</svg>`).exec(dom);
  if (m === null) throw new Error(`no chart ${id}`);
  return m[1]!;
}
const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;
const values = (svg: string, cls: string) => [...svg.matchAll(new RegExp(`class="${cls}"[^>]*data-value="([^"]*)"`, 'g'))].map((m) => Number(m[1]));

describe('HTML report: the file itself', () => {
  it('is one self-contained file: no script, no stylesheet link, no image, nothing to fetch', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|<embed|url\(|@import/i);
    // The only http(s) reference is inside escaped data from the wire (the hostile agent string).
    const withoutData = html.split(esc(HOSTILE_AGENT)).join('');
    expect(withoutData).not.toMatch(/https?:\/\//i);
    expect(html).toContain(esc(HOSTILE_AGENT));
  });

  it('escapes everything from the wire: logins, workers, agents, host names, notes', () => {
    expect(html).not.toContain(HOSTILE_LOGIN);
    expect(html).toContain(esc(HOSTILE_LOGIN));
    expect(html).not.toContain(HOSTILE_HOST);
    expect(html).toContain(esc(HOSTILE_HOST));
    expect(html).not.toContain('<b>w</b>');
    expect(html).toContain('&lt;b&gt;w&lt;/b&gt;');
    expect(html).toContain('&lt;i&gt;called&lt;/i&gt;');
  });

  it('without organisation and case modules: says so', () => {
    const db = openDatabase(dbPath, { readonly: true });
    const bare = renderHtml(htmlReportData(db, { providers: NO_PROVIDERS }), { generatedAt: GENERATED });
    db.close();
    expect(bare).toContain('no organisations configured');
    expect(bare).toContain('<p class="empty" id="no-cases">no cases</p>');
    expect(bare).not.toContain('data-chart="organisations"');
    // A long source list is cut, and says so.
    const cut = renderHtml(data, { generatedAt: GENERATED, maxSources: 10 });
    expect(count(/<table class="sources">[\s\S]*?<\/table>/.exec(cut)![0], /<tr>/g)).toBe(11);
    expect(cut).toContain(`The 10 sources with the most traffic of ${data.sources.length}`);
  });

  it('poolwatch report html -o FILE writes the same kind of page', () => {
    const out = join(dir, 'cli.html');
    const r = cli(['report', 'html', '--db', dbPath, '-o', out, '--screened', '4699']);
    expect(r.code, r.stderr).toBe(0);
    const page = readFileSync(out, 'utf8');
    expect(page).toContain('<h1>Mining traffic report, 2024-03-01 00:00Z to 2024-03-03 23:59Z</h1>');
    expect(page).toContain('4,699 IPs screened');
    expect(page).toContain(`data-chart="sources-over-time"`);
    expect(page).not.toContain(HOSTILE_LOGIN);
  });
});

describe.skipIf(CHROMIUM === null)('HTML report rendered in headless Chromium', () => {
  let dom: string;
  let requests: string[];
  beforeAll(async () => {
    const r = await runChromium(pathToFileURL(file).href, ['--dump-dom']);
    expect(r.code, r.stderr).toBe(0);
    dom = r.stdout;
    requests = r.requests;
  });

  it('makes no request of its own (every request goes to a trap proxy)', async () => {
    expect(pageRequests(requests)).toEqual([]);
    // The trap does catch what a page asks for: a page with a remote image.
    const probe = join(dir, 'probe.html');
    writeFileSync(probe, '<!DOCTYPE html><html><body><img src="http://198.51.100.1/x.png"></body></html>');
    const p = await runChromium(pathToFileURL(probe).href, ['--dump-dom']);
    expect(pageRequests(p.requests).some((q) => q.includes('198.51.100.1'))).toBe(true);
  });

  it('has the title, the sentence and the summary figures', () => {
    expect(dom).toContain('<title>Mining traffic report, 2024-03-01 00:00Z to 2024-03-03 23:59Z</title>');
    const s = data.summary;
    expect(dom).toContain(`4,699 IPs screened, ${s.flaggedSources} IPs flagged in 8 organisations, 10 coins`);
    expect(s.screened.sources).toBe(4699);
    const fig = (label: string) => new RegExp(`<div class="value">([^<]*)</div><div class="label">${label}</div>`).exec(dom)?.[1];
    expect(fig('flagged sources')).toBe(String(s.flaggedSources));
    expect(fig('organisations')).toBe('8');
    expect(fig('coins')).toBe('10');
    expect(fig('estimated hash rate')).toBe(humanHashrate(s.hashrate.hashrate));
    for (const h of ['Summary', 'Flagged sources per hour', 'Top organisations', 'Coins', 'Top pools', 'Cases', `Flagged sources (${data.sources.length})`]) {
      expect(dom).toContain(`<h2>${h}`);
    }
  });

  it('draws one bar or point per bucket, organisation, coin and pool', () => {
    const overTime = chart(dom, 'sources-over-time');
    expect(data.unit).toBe('hour');
    expect(data.timeline).toHaveLength(72);
    expect(count(overTime, /<rect class="bar"/g)).toBe(72);
    expect(values(overTime, 'bar')).toEqual(data.timeline.map((b) => b.flaggedSources));
    const traffic = chart(dom, 'traffic');
    expect(count(traffic, /<circle class="point"/g)).toBe(data.timeline.filter((b) => b.averageBps !== null).length);
    expect(count(traffic, /<path class="line"/g)).toBe(1);
    expect(count(chart(dom, 'organisations'), /<rect class="bar"/g)).toBe(8);
    expect(values(chart(dom, 'organisations'), 'bar')).toEqual(data.orgs!.map((o) => o.sources));
    expect(count(chart(dom, 'coins'), /<rect class="bar"/g)).toBe(data.coins.length);
    expect(count(chart(dom, 'pools'), /<rect class="bar"/g)).toBe(Math.min(10, data.pools.length));
  });

  it('fills the tables: cases, sources with hash rates, pools', () => {
    const rows = [...dom.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((c) => c[1]!));
    const casesTable = /<table class="cases">[\s\S]*?<\/table>/.exec(dom)![0];
    expect(count(casesTable, /<tr>/g)).toBe(info.cases.length + 1);
    // A source with a hash rate from shares: its row shows the figure and the method.
    const withShares = data.sources.find((s) => s.hashrateMethod === 'shares')!;
    const row = rows.find((r) => r[0] === withShares.src)!;
    expect(row).toContain(`<span class="num">${humanHashrate(withShares.hashrate)}</span>`);
    expect(row).toContain('shares');
    const sourcesTable = /<table class="sources">[\s\S]*?<\/table>/.exec(dom)![0];
    expect(count(sourcesTable, /<tr>/g)).toBe(data.sources.length + 1);
    const poolsTable = /<table class="pools">[\s\S]*?<\/table>/.exec(dom)![0];
    expect(count(poolsTable, /<tr>/g)).toBe(data.pools.length + 1);
  });

  it('shows hostile strings as text: no element came out of them', () => {
    expect(count(dom, /<script/gi)).toBe(0);
    expect(dom).not.toMatch(/<[a-z][^>]*\s(?:src|href|onerror|onload)=/i);
    expect(dom).toContain('&lt;script&gt;alert("pw")&lt;/script&gt;');
    expect(dom).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('takes a screenshot (PW_REPORT_SCREENSHOT=docs/report.png keeps it)', async () => {
    const png = join(dir, 'report.png');
    const r = await runChromium(pathToFileURL(file).href, [`--screenshot=${png}`, '--window-size=1280,2000', '--hide-scrollbars']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(png).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    if (process.env.PW_REPORT_SCREENSHOT) copyFileSync(png, process.env.PW_REPORT_SCREENSHOT);
  });
});

if (CHROMIUM === null) {
  console.warn('report-html: chromium is not installed (apt-get install -y chromium): the rendering tests are skipped');
}
