import { readTextFile } from './read-text.js';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { isListFormat, LIST_FORMATS } from './blacklist/formats/index.js';
import type { ListFormat } from './blacklist/types.js';
import { parseDurationMs, parseSize } from './blacklist/units.js';
import { PoolwatchError } from './errors.js';
import { DEFAULT_FLOW_OPTIONS, type FlowTableOptions } from './flow/table.js';
import { DEFAULT_SUSPECT, type SuspectConfig } from './rules/flow-records.js';

/** One blacklist source from `blacklist.sources` (or a legacy `blacklist.files` entry). */
export interface SourceConfig {
  /** Unique name; entries, reports and `blacklist history` name the source by it. */
  name: string;
  kind: 'file' | 'url';
  /** Absolute file path (relative paths are resolved against the configuration file) or http(s) URL. */
  location: string;
  format: ListFormat;
  /** Least time between two fetches of this source (ms); 0 = at every refresh. */
  refreshMs: number;
  /** Largest body or file accepted (bytes); a bigger one fails the source. */
  maxBytes: number;
  /** Longest a fetch may take, headers and body together (ms). */
  timeoutMs: number;
  /** Largest share of its entries (0..1) the source may lose in one refresh without --force. */
  maxShrink: number;
}

export interface ResolveConfig {
  /** False: domain entries are not resolved to addresses (name matching on the wire still works). */
  enabled: boolean;
  /** DNS servers "ip" or "ip:port" ("[v6]:port"); null = the system's resolvers. */
  servers: string[] | null;
  /** Per query (ms), and attempts per server. */
  timeoutMs: number;
  tries: number;
  /** Names resolved at the same time. */
  concurrency: number;
  /** A resolved address lives at least this long (ms) whatever its TTL... */
  minTtlMs: number;
  /** ...and at most this long. */
  maxTtlMs: number;
}

export interface BlacklistConfig {
  sources: SourceConfig[];
  /** Plain lists of ranges never flagged by address. Not versioned: they are local policy. */
  allowFiles: string[];
  /** How often a long-running scan reloads (and refreshes) the stored blacklist (ms). */
  refreshIntervalMs: number;
  resolve: ResolveConfig;
}

/** Flow records (NetFlow v5/v9, IPFIX, nfdump): `netflow:` in the YAML. */
export interface NetflowConfig {
  /** When a flow to a pool port with no list match is recorded as `suspect` (off by default). */
  suspect: SuspectConfig;
}

/** `organisations:` in the YAML: who holds which address ranges (src/report/orgs.ts). */
export interface OrganisationsConfig {
  /** Absolute paths of YAML (.yaml/.yml) or CSV (.csv) files, in order; none by default. */
  files: string[];
}

/** `alerts.webhook`: a JSON POST per alert (src/report/alerts-webhook.ts). */
export interface WebhookConfig {
  /** http:// or https:// URL. */
  url: string;
  /** Longest one attempt may take, connection to the end of the answer (ms). */
  timeoutMs: number;
  /** Attempts per alert, the first included; then it is dropped and logged. */
  maxAttempts: number;
  /** Wait before the first retry (ms); doubled at each further retry, at most 60 s. */
  backoffMs: number;
  /** Alerts waiting for delivery at most; past that the oldest are dropped (and counted). */
  maxQueue: number;
  /** Extra request headers, e.g. Authorization. */
  headers: Record<string, string>;
}

/** `alerts.syslog`: RFC 5424 messages over UDP (RFC 5426) (src/report/alerts-syslog.ts). */
export interface SyslogConfig {
  /** Address or host name of the syslog server (host names resolve to IPv4; give an IPv6 address for IPv6). */
  host: string;
  port: number;
  /** Facility code 0-23 (`local0` = 16). */
  facility: number;
  /** APP-NAME of the messages. */
  appName: string;
}

/** `alerts:` in the YAML: where new cases and recurrences are announced (src/report/alerts.ts). */
export interface AlertsConfig {
  webhook: WebhookConfig | null;
  syslog: SyslogConfig | null;
  /** Alerts per minute (token bucket, bursts up to this many); the excess is coalesced into summary alerts. */
  maxPerMinute: number;
  /** At the end of a run, how long to wait for alerts still queued or being retried (ms). */
  drainMs: number;
}

export interface Config {
  /** Files the settings came from (for messages). */
  source: string;
  allowFiles: string[];
  blacklist: BlacklistConfig;
  poolPorts: number[];
  flows: FlowTableOptions;
  netflow: NetflowConfig;
  batchSize: number;
  organisations: OrganisationsConfig;
  alerts: AlertsConfig;
}

export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../config/poolwatch.yaml', import.meta.url));

export const SOURCE_DEFAULTS = {
  maxBytes: 16 * 1024 * 1024,
  timeoutMs: 30_000,
  maxShrink: 0.5,
  refreshIntervalMs: 6 * 3_600_000,
} as const;

/** Source names: printable in a table, safe in a file name, and never the reserved hand-edit name. */
export const SOURCE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const MANUAL_SOURCE = 'manual';
/** "ip", "ip:port" or "[v6]:port": what dns.Resolver#setServers accepts. */
const SERVER_RE = /^(?:\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?|[0-9A-Fa-f:]+|\[[0-9A-Fa-f:]+\]:\d{1,5})$/;

/** Load and check the YAML configuration; every problem names the file and the key. */
export function loadConfig(path: string = DEFAULT_CONFIG_PATH): Config {
  const text = readTextFile(path, 'configuration');
  let doc: unknown;
  try {
    doc = YAML.parse(text) ?? {};
  } catch (e) {
    throw new PoolwatchError('PW_ERR_USAGE', `configuration is not valid YAML: ${(e as Error).message.split('\n')[0]}`, { file: path });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new PoolwatchError('PW_ERR_USAGE', 'configuration must be a mapping', { file: path });
  }
  const base = dirname(path);
  const d = doc as Record<string, any>;
  const bad = (key: string, want: string): never => {
    throw new PoolwatchError('PW_ERR_USAGE', `configuration key ${key} must be ${want}`, { file: path });
  };
  const paths = (v: unknown, key: string): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) bad(key, 'a list of file names');
    return (v as string[]).map((p) => resolve(base, p));
  };
  const num = (v: unknown, key: string, dflt: number, min: number): number => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) bad(key, `a number >= ${min}`);
    return v as number;
  };
  const ports = d.poolPorts ?? [];
  if (!Array.isArray(ports) || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) bad('poolPorts', 'a list of ports 1-65535');
  const flows = d.flows ?? {};
  const blacklist = loadBlacklistConfig(d.blacklist ?? {}, base, bad, paths);
  return {
    source: path,
    allowFiles: blacklist.allowFiles,
    blacklist,
    poolPorts: ports as number[],
    flows: {
      idleTimeoutSec: num(flows.idleTimeout, 'flows.idleTimeout', DEFAULT_FLOW_OPTIONS.idleTimeoutSec, 1),
      udpIdleTimeoutSec: num(flows.udpIdleTimeout, 'flows.udpIdleTimeout', DEFAULT_FLOW_OPTIONS.udpIdleTimeoutSec, 1),
      activeTimeoutSec: num(flows.activeTimeout, 'flows.activeTimeout', DEFAULT_FLOW_OPTIONS.activeTimeoutSec, 1),
      maxFlows: num(flows.maxFlows, 'flows.maxFlows', DEFAULT_FLOW_OPTIONS.maxFlows, 1),
    },
    netflow: loadNetflowConfig(d.netflow ?? {}, bad),
    batchSize: num(d.report?.batchSize, 'report.batchSize', 500, 1),
    organisations: loadOrganisationsConfig(d.organisations ?? {}, bad, paths),
    alerts: loadAlertsConfig(d.alerts ?? {}, bad),
  };
}

/** `organisations.files`: YAML or CSV files, told apart by extension. */
function loadOrganisationsConfig(o: any, bad: Bad, paths: (v: unknown, key: string) => string[]): OrganisationsConfig {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) bad('organisations', 'a mapping with files: [...]');
  for (const k of Object.keys(o)) if (k !== 'files') bad(`organisations.${k}`, 'files (unknown key)');
  const files = paths(o.files, 'organisations.files');
  for (const f of files) {
    if (!/\.(ya?ml|csv)$/i.test(f)) bad('organisations.files', `a list of .yaml, .yml or .csv files (not ${basename(f)})`);
  }
  return { files };
}

export const ALERT_DEFAULTS = {
  maxPerMinute: 60,
  drainMs: 5_000,
  webhook: { timeoutMs: 10_000, maxAttempts: 5, backoffMs: 1_000, maxQueue: 1_000 },
  syslog: { port: 514, facility: 16, appName: 'poolwatch' },
} as const;

/** Syslog facility names (RFC 5424 table 1, as syslog.conf spells them). */
export const SYSLOG_FACILITIES: Readonly<Record<string, number>> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  ntp: 12, security: 13, console: 14, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

/** RFC 7230 token: what a header name may be. */
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 5424 APP-NAME: 1-48 printable US-ASCII characters, no space. */
const APP_NAME_RE = /^[\x21-\x7e]{1,48}$/;
const HOST_RE = /^[A-Za-z0-9.-]{1,253}$|^[0-9A-Fa-f:.]+$/;

/** `alerts`: every key optional; no webhook and no syslog means no alerts (cases are still kept). */
function loadAlertsConfig(a: any, bad: Bad): AlertsConfig {
  const mapping = (v: unknown, key: string, known: string[]): Record<string, any> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(key, 'a mapping');
    for (const k of Object.keys(v as object)) if (!known.includes(k)) bad(`${key}.${k}`, `one of ${known.join(', ')} (unknown key)`);
    return v as Record<string, any>;
  };
  const int = (v: unknown, key: string, dflt: number, min: number, max: number): number => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) bad(key, `a whole number ${min}-${max}`);
    return v as number;
  };
  const seconds = (v: unknown, key: string, dfltMs: number, max: number): number => {
    if (v === undefined) return dfltMs;
    if (typeof v !== 'number' || !(v > 0 && v <= max)) bad(key, `a number of seconds above 0 and at most ${max}`);
    return Math.round((v as number) * 1000);
  };
  const al = mapping(a, 'alerts', ['webhook', 'syslog', 'maxPerMinute', 'drainSeconds']);
  let webhook: WebhookConfig | null = null;
  if (al.webhook !== undefined && al.webhook !== null) {
    const w = mapping(al.webhook, 'alerts.webhook', ['url', 'timeoutSeconds', 'maxAttempts', 'backoffSeconds', 'maxQueue', 'headers']);
    const headers: Record<string, string> = {};
    if (w.headers !== undefined) {
      const h = w.headers as unknown;
      if (typeof h !== 'object' || h === null || Array.isArray(h)) bad('alerts.webhook.headers', 'a mapping of header names to text');
      for (const [k, v] of Object.entries(h as object)) {
        if (!HEADER_NAME_RE.test(k)) bad(`alerts.webhook.headers.${k}`, 'a header name (letters, digits and !#$%&\'*+.^_`|~-)');
        if (typeof v !== 'string' || /[\r\n\0]/.test(v)) bad(`alerts.webhook.headers.${k}`, 'text on one line');
        headers[k] = v as string;
      }
    }
    webhook = {
      url: checkUrl(w.url, 'alerts.webhook.url', bad),
      timeoutMs: seconds(w.timeoutSeconds, 'alerts.webhook.timeoutSeconds', ALERT_DEFAULTS.webhook.timeoutMs, 300),
      maxAttempts: int(w.maxAttempts, 'alerts.webhook.maxAttempts', ALERT_DEFAULTS.webhook.maxAttempts, 1, 20),
      backoffMs: seconds(w.backoffSeconds, 'alerts.webhook.backoffSeconds', ALERT_DEFAULTS.webhook.backoffMs, 60),
      maxQueue: int(w.maxQueue, 'alerts.webhook.maxQueue', ALERT_DEFAULTS.webhook.maxQueue, 1, 1_000_000),
      headers,
    };
  }
  let syslog: SyslogConfig | null = null;
  if (al.syslog !== undefined && al.syslog !== null) {
    const s = mapping(al.syslog, 'alerts.syslog', ['host', 'port', 'facility', 'appName']);
    if (typeof s.host !== 'string' || !HOST_RE.test(s.host)) bad('alerts.syslog.host', 'an address or host name');
    let facility: number = ALERT_DEFAULTS.syslog.facility;
    if (s.facility !== undefined) {
      const f: unknown = s.facility;
      if (typeof f === 'string' && Object.hasOwn(SYSLOG_FACILITIES, f.toLowerCase())) facility = SYSLOG_FACILITIES[f.toLowerCase()]!;
      else if (Number.isInteger(f) && (f as number) >= 0 && (f as number) <= 23) facility = f as number;
      else bad('alerts.syslog.facility', `a facility name (${Object.keys(SYSLOG_FACILITIES).join(', ')}) or a number 0-23`);
    }
    if (s.appName !== undefined && (typeof s.appName !== 'string' || !APP_NAME_RE.test(s.appName))) {
      bad('alerts.syslog.appName', '1-48 printable ASCII characters without spaces');
    }
    syslog = {
      host: s.host as string,
      port: int(s.port, 'alerts.syslog.port', ALERT_DEFAULTS.syslog.port, 1, 65535),
      facility,
      appName: (s.appName as string | undefined) ?? ALERT_DEFAULTS.syslog.appName,
    };
  }
  return {
    webhook,
    syslog,
    maxPerMinute: int(al.maxPerMinute, 'alerts.maxPerMinute', ALERT_DEFAULTS.maxPerMinute, 1, 100_000),
    // 0 is allowed: a one-shot run does not wait for deliveries at all (what is left is logged).
    drainMs: al.drainSeconds === 0 ? 0 : seconds(al.drainSeconds, 'alerts.drainSeconds', ALERT_DEFAULTS.drainMs, 600),
  };
}

/**
 * `netflow.suspect`: every key optional (defaults in DEFAULT_SUSPECT), unknown keys refused so a
 * misspelt threshold cannot pass silently. Other keys under `netflow` are left to the inputs.
 */
function loadNetflowConfig(n: any, bad: Bad): NetflowConfig {
  if (typeof n !== 'object' || n === null || Array.isArray(n)) bad('netflow', 'a mapping');
  const s = n.suspect ?? {};
  if (typeof s !== 'object' || s === null || Array.isArray(s)) bad('netflow.suspect', 'a mapping');
  const known = Object.keys(DEFAULT_SUSPECT);
  for (const k of Object.keys(s)) if (!known.includes(k)) bad(`netflow.suspect.${k}`, `one of ${known.join(', ')} (unknown key)`);
  const pos = (k: keyof SuspectConfig, want: string, whole = false): number => {
    const v: unknown = s[k];
    if (v === undefined) return DEFAULT_SUSPECT[k] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (whole && !Number.isInteger(v))) bad(`netflow.suspect.${k}`, want);
    return v as number;
  };
  if (s.enabled !== undefined && typeof s.enabled !== 'boolean') bad('netflow.suspect.enabled', 'true or false');
  const suspect: SuspectConfig = {
    enabled: s.enabled ?? DEFAULT_SUSPECT.enabled,
    minDurationSec: pos('minDurationSec', 'a number of seconds above 0'),
    maxBytesPerSec: pos('maxBytesPerSec', 'a number of bytes per second above 0'),
    maxGapSec: pos('maxGapSec', 'a number of seconds above 0'),
    minPacketsPerMin: pos('minPacketsPerMin', 'a number of packets per minute above 0'),
    idleTimeoutSec: pos('idleTimeoutSec', 'a number of seconds above 0'),
    reportIntervalSec: pos('reportIntervalSec', 'a number of seconds above 0'),
    maxCandidates: pos('maxCandidates', 'a whole number above 0', true),
  };
  // A run closed before a gap could be bridged would never reach its minimum duration.
  if (suspect.idleTimeoutSec < suspect.maxGapSec) bad('netflow.suspect.idleTimeoutSec', 'at least netflow.suspect.maxGapSec');
  return { suspect };
}

type Bad = (key: string, want: string) => never;

function loadBlacklistConfig(b: any, base: string, bad: Bad, paths: (v: unknown, key: string) => string[]): BlacklistConfig {
  if (typeof b !== 'object' || b === null || Array.isArray(b)) bad('blacklist', 'a mapping');
  const duration = (v: unknown, key: string, dflt: number, minMs = 0): number => {
    if (v === undefined) return dflt;
    const ms = parseDurationMs(v);
    if (ms === null || ms < minMs) bad(key, `a duration such as "30s", "15m", "6h" or "1d"${minMs > 0 ? ` of at least ${minMs / 1000} s` : ''}`);
    return ms!;
  };
  const size = (v: unknown, key: string, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = parseSize(v);
    if (n === null || n < 1) bad(key, 'a size in bytes, e.g. 1048576 or "16MiB"');
    return n!;
  };
  const share = (v: unknown, key: string, dflt: number): number => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) bad(key, 'a share between 0 and 1 (0.5 = may lose half its entries)');
    return v as number;
  };
  const seconds = (v: unknown, key: string, dflt: number): number => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) bad(key, 'a number of seconds above 0');
    return Math.round((v as number) * 1000);
  };

  const defaults = {
    maxBytes: size(b.maxBytes, 'blacklist.maxBytes', SOURCE_DEFAULTS.maxBytes),
    timeoutMs: seconds(b.timeoutSeconds, 'blacklist.timeoutSeconds', SOURCE_DEFAULTS.timeoutMs),
    maxShrink: share(b.maxShrink, 'blacklist.maxShrink', SOURCE_DEFAULTS.maxShrink),
  };
  const refreshIntervalMs = duration(b.refreshInterval, 'blacklist.refreshInterval', SOURCE_DEFAULTS.refreshIntervalMs, 60_000);

  const sources: SourceConfig[] = [];
  // Legacy `files:` lists are plain local sources named by their file name.
  for (const file of paths(b.files, 'blacklist.files')) {
    sources.push({ name: basename(file), kind: 'file', location: file, format: 'plain', refreshMs: 0, ...defaults });
  }
  if (b.sources !== undefined && !Array.isArray(b.sources)) bad('blacklist.sources', 'a list of sources');
  for (const [i, s] of ((b.sources ?? []) as unknown[]).entries()) {
    const key = `blacklist.sources[${i}]`;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) bad(key, 'a mapping with name, file or url, and format');
    const src = s as Record<string, unknown>;
    const known = new Set(['name', 'file', 'url', 'format', 'refresh', 'maxBytes', 'timeoutSeconds', 'maxShrink']);
    for (const k of Object.keys(src)) if (!known.has(k)) bad(`${key}.${k}`, `one of ${[...known].join(', ')} (unknown key)`);
    if (typeof src.name !== 'string' || !SOURCE_NAME_RE.test(src.name)) {
      bad(`${key}.name`, 'a name of letters, digits, ".", "_" or "-" (at most 64)');
    }
    const name = src.name as string;
    if (name === MANUAL_SOURCE) bad(`${key}.name`, `other than "${MANUAL_SOURCE}" (reserved for hand edits)`);
    if (!isListFormat(src.format)) bad(`${key}.format`, `one of ${LIST_FORMATS.join(', ')}`);
    if ((src.file === undefined) === (src.url === undefined)) bad(key, 'a mapping with exactly one of file or url');
    let kind: 'file' | 'url';
    let location: string;
    if (src.file !== undefined) {
      if (typeof src.file !== 'string' || src.file === '') bad(`${key}.file`, 'a file name');
      kind = 'file';
      location = resolve(base, src.file as string);
    } else {
      kind = 'url';
      location = checkUrl(src.url, `${key}.url`, bad);
    }
    sources.push({
      name,
      kind,
      location,
      format: src.format as ListFormat,
      refreshMs: duration(src.refresh, `${key}.refresh`, 0),
      maxBytes: size(src.maxBytes, `${key}.maxBytes`, defaults.maxBytes),
      timeoutMs: seconds(src.timeoutSeconds, `${key}.timeoutSeconds`, defaults.timeoutMs),
      maxShrink: share(src.maxShrink, `${key}.maxShrink`, defaults.maxShrink),
    });
  }
  const seen = new Set<string>();
  for (const s of sources) {
    if (seen.has(s.name)) bad('blacklist.sources', `a list of sources with distinct names ("${s.name}" appears twice; files: entries are named by file name)`);
    seen.add(s.name);
  }
  return {
    sources,
    allowFiles: paths(b.allow, 'blacklist.allow'),
    refreshIntervalMs,
    resolve: loadResolveConfig(b.resolver, b.resolve ?? {}, refreshIntervalMs, bad, duration),
  };
}

function loadResolveConfig(
  servers: unknown,
  r: any,
  refreshIntervalMs: number,
  bad: Bad,
  duration: (v: unknown, key: string, dflt: number, minMs?: number) => number,
): ResolveConfig {
  let enabled = true;
  let list: string[] | null = null;
  if (servers === false) enabled = false;
  else if (servers !== undefined && servers !== null) {
    if (!Array.isArray(servers) || servers.length === 0 || servers.some((x) => typeof x !== 'string' || !SERVER_RE.test(x))) {
      bad('blacklist.resolver', 'a list of DNS servers "ip" or "ip:port" ("[v6]:port"), or false to resolve nothing');
    }
    list = servers as string[];
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) bad('blacklist.resolve', 'a mapping');
  const int = (v: unknown, key: string, dflt: number, min: number, max: number): number => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) bad(key, `a whole number ${min}-${max}`);
    return v as number;
  };
  const timeoutSec = r.timeoutSeconds ?? 5;
  if (typeof timeoutSec !== 'number' || !(timeoutSec > 0 && timeoutSec <= 60)) bad('blacklist.resolve.timeoutSeconds', 'a number of seconds, above 0 and at most 60');
  // Why the floor defaults to the refresh interval: every refresh resolves the names again, so
  // an address must last until the next scheduled refresh can confirm or drop it; a pool front
  // with a 60 s TTL (DNS load balancing) would otherwise vanish from the list minutes after each
  // refresh. The cap bounds how long a stale address can flag customers when refreshes stop.
  const minTtlMs = duration(r.minTtl, 'blacklist.resolve.minTtl', refreshIntervalMs);
  const maxTtlMs = duration(r.maxTtl, 'blacklist.resolve.maxTtl', Math.max(86_400_000, minTtlMs));
  if (maxTtlMs < minTtlMs) bad('blacklist.resolve.maxTtl', 'at least blacklist.resolve.minTtl');
  return {
    enabled,
    servers: list,
    timeoutMs: Math.round(timeoutSec * 1000),
    tries: int(r.tries, 'blacklist.resolve.tries', 2, 1, 5),
    concurrency: int(r.concurrency, 'blacklist.resolve.concurrency', 16, 1, 256),
    minTtlMs,
    maxTtlMs,
  };
}

/** An absolute http(s) URL; any other scheme (file:, ftp:, data:) is refused when the configuration loads. */
function checkUrl(v: unknown, key: string, bad: Bad): string {
  if (typeof v !== 'string') bad(key, 'an http:// or https:// URL');
  let u: URL;
  try {
    u = new URL(v as string);
  } catch {
    return bad(key, 'an http:// or https:// URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') bad(key, `an http:// or https:// URL (not ${u.protocol})`);
  return u.href;
}
