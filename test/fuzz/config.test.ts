/**
 * Fuzz: the YAML configuration (src/config.ts loadConfig) and the organisation map loaders
 * (src/report/orgs.ts parseOrgYaml / parseOrgCsv) on mutated files: keys and values replaced,
 * types swapped (lists for mappings, text for numbers), YAML syntax broken (anchors, aliases,
 * tags, flow collections, indentation), ranges with host bits, ports, duplicates.
 *
 * Contract: a file is either loaded into a typed result, or refused with a PoolwatchError whose
 * code is PW_ERR_USAGE and which names the file (and the line where it can); never another
 * exception. The organisation map then answers lookups without throwing.
 */
import fc from 'fast-check';
import { describe, vi } from 'vitest';
import { LIST_FORMATS } from '../../src/blacklist/formats/index.js';
import { loadConfig } from '../../src/config.js';
import { PoolwatchError } from '../../src/errors.js';
import { OrgMap, parseOrgCsv, parseOrgYaml } from '../../src/report/orgs.js';
import { CONFIG_DICT, configSeeds, orgCsvSeeds, orgYamlSeeds, YAML_DICT } from './corpus.js';
import { expectLinear, scaledText } from './linear.js';
import { applyText, textCase } from './mutate.js';
import { check, fuzz } from './runs.js';

// loadConfig reads its file through readTextFile: hand it the case's text instead of a file.
const files = vi.hoisted(() => new Map<string, string>());
vi.mock('../../src/read-text.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/read-text.js')>();
  return { ...real, readTextFile: (path: string, what: string) => files.get(path) ?? real.readTextFile(path, what) };
});

const CONFIG = '/fuzz/poolwatch.yaml';

// The yaml package reports unknown tags as process warnings: thousands of cases would flood stderr.
vi.spyOn(process, 'emitWarning').mockImplementation(() => {});

function checkRefusal(e: unknown, source: string, lines: number): void {
  check(e instanceof PoolwatchError, () => `not a PoolwatchError: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
  const p = e as PoolwatchError;
  check(p.code === 'PW_ERR_USAGE', () => `code ${p.code}: ${p.message}`);
  check(p.context.file === source || p.message.includes(source), () => `the error does not name ${source}: ${p.message}`);
  const line = p.context.line;
  check(line === undefined || (Number.isInteger(line) && line >= 1 && line <= lines + 1), () => `line ${line} of ${lines}`);
}

function checkConfig(c: ReturnType<typeof loadConfig>): void {
  check(c.source === CONFIG, 'source');
  check(c.poolPorts.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535), 'poolPorts');
  for (const v of [c.flows.idleTimeoutSec, c.flows.activeTimeoutSec, c.flows.maxFlows, c.batchSize]) check(Number.isFinite(v) && v >= 1, 'flows and batch size');
  const names = new Set<string>();
  for (const s of c.blacklist.sources) {
    check(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s.name) && s.name !== 'manual' && !names.has(s.name), () => `source name ${s.name}`);
    names.add(s.name);
    check(LIST_FORMATS.includes(s.format), () => `format ${s.format}`);
    check(s.kind === 'url' ? /^https?:\/\//.test(s.location) : s.location.startsWith('/'), () => `location ${s.location}`);
    check(Number.isFinite(s.refreshMs) && s.refreshMs >= 0 && Number.isInteger(s.maxBytes) && s.maxBytes >= 1, 'refresh and size');
    check(Number.isFinite(s.timeoutMs) && s.timeoutMs > 0 && s.maxShrink >= 0 && s.maxShrink <= 1, 'timeout and shrink');
  }
  const r = c.blacklist.resolve;
  check(r.minTtlMs <= r.maxTtlMs && Number.isFinite(r.maxTtlMs) && r.timeoutMs > 0, 'resolver ttls');
  check(c.blacklist.refreshIntervalMs >= 60_000 && Number.isFinite(c.blacklist.refreshIntervalMs), 'refresh interval');
  check(c.organisations.files.every((f) => /\.(ya?ml|csv)$/i.test(f)), 'organisation files');
  const a = c.alerts;
  check(a.webhook === null || /^https?:\/\//.test(a.webhook.url), 'webhook url');
  check(a.syslog === null || (a.syslog.port >= 1 && a.syslog.port <= 65535 && a.syslog.facility >= 0 && a.syslog.facility <= 23), 'syslog');
  const s = c.netflow.suspect;
  check(Number.isInteger(s.maxCandidates) && s.maxCandidates > 0 && s.idleTimeoutSec >= s.maxGapSec, 'suspect');
}

function checkOrgs(map: OrgMap): void {
  for (const o of map.organisations()) {
    check(o.name.length > 0 && o.name.length <= 200 && o.name.toLowerCase() !== 'unknown', () => `organisation name ${JSON.stringify(o.name)}`);
  }
  for (const ip of ['192.0.2.1', '10.1.2.3', '2001:db8:100::1', '::', 'not an address', '']) map.lookup(ip);
}

function loadOrgs(kind: 'yaml' | 'csv', text: string, source: string): OrgMap | unknown {
  const map = new OrgMap();
  try {
    if (kind === 'yaml') parseOrgYaml(text, source, map);
    else parseOrgCsv(text, source, map);
  } catch (e) {
    return e;
  }
  return map;
}

describe('fuzz: configuration and organisation map', () => {
  const cfg = configSeeds();
  fuzz(
    'configuration: mutated YAML loads into a typed configuration or is refused with PW_ERR_USAGE naming the file',
    textCase(cfg, CONFIG_DICT, { maxChars: 5 }),
    (t) => {
      const text = applyText(cfg, CONFIG_DICT, t);
      files.set(CONFIG, text);
      let c: ReturnType<typeof loadConfig> | null = null;
      try {
        c = loadConfig(CONFIG);
      } catch (e) {
        checkRefusal(e, CONFIG, text.split(/\r\n|\n|\r/).length);
      }
      if (c !== null) checkConfig(c);
    },
  );

  for (const kind of ['yaml', 'csv'] as const) {
    const corpus = kind === 'yaml' ? orgYamlSeeds() : orgCsvSeeds();
    const source = `/fuzz/orgs.${kind}`;
    fuzz(
      `organisations (${kind}): mutated files load into a map that answers lookups, or are refused with PW_ERR_USAGE naming the file`,
      textCase(corpus, YAML_DICT, { maxChars: 5 }),
      (t) => {
        const text = applyText(corpus, YAML_DICT, t);
        const r = loadOrgs(kind, text, source);
        if (r instanceof OrgMap) checkOrgs(r);
        else checkRefusal(r, source, text.split(/\r\n|\n|\r/).length);
      },
    );

    fuzz(
      `organisations (${kind}): time per byte does not grow with the number of organisations`,
      fc.integer({ min: 1, max: 200 }),
      (n) => {
        // Distinct ranges (a duplicate is refused at once): organisation i holds 10.i.j.0/24.
        const rows = (from: number, count: number) =>
          Array.from({ length: count }, (_, k) => {
            const i = from + k;
            const range = `10.${(i >> 8) & 255}.${i & 255}.0/24`;
            return kind === 'yaml' ? `  - name: Org ${i % n}\n    ranges: [${range}, 2001:db8:${i.toString(16)}::/48]\n` : `${range},Org ${i % n},school\n`;
          }).join('');
        const head = kind === 'yaml' ? 'organisations:\n' : 'range,name,sector\n';
        const small = head + rows(0, 200);
        const big = head + rows(0, 2000);
        expectLinear({ small, big, smallSize: small.length, bigSize: big.length }, (x) => loadOrgs(kind, x, source), `organisations ${kind}`);
      },
      { scale: 0.001, min: 3 },
    );
  }

  fuzz(
    'configuration: time per byte does not grow with the number of sources',
    fc.integer({ min: 1, max: 50 }),
    (n) => {
      const src = (i: number) => `    - {name: s${i}, url: "https://example.org/${i % n}.txt", format: hosts, refresh: 1d}\n`;
      const s = scaledText('blacklist:\n  sources:\n', Array.from({ length: n }, (_, i) => src(i)).join(''), 8192);
      // Names must stay distinct when the body repeats: number them afresh.
      let i = 0;
      const renumber = (x: string) => x.replace(/name: s\d+/g, () => `name: s${i++}`);
      const small = renumber(s.small);
      const big = renumber(s.big);
      expectLinear(
        { small, big, smallSize: small.length, bigSize: big.length },
        (x) => {
          files.set(CONFIG, x);
          loadConfig(CONFIG);
        },
        'configuration',
      );
    },
    { scale: 0.002, min: 3 },
  );
});
