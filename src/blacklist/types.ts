/** One line of a blacklist or allow-list, already normalised. */
export interface BlacklistEntry {
  version: 4 | 6;
  /** Network address bytes (4 or 16), host bits cleared. */
  addr: Uint8Array;
  /** 0..32 for IPv4, 0..128 for IPv6. */
  prefixLen: number;
  /** Inclusive port range; 0 and 65535 when the line named no port (any port matches). */
  portLo: number;
  portHi: number;
  /** Canonical form, e.g. "203.0.113.0/24:3333", "[2001:db8::/32]:3333-3340", "198.51.100.7". */
  text: string;
  /** The list the entry came from (file path as given to the loader), for reports. */
  source: string;
  /**
   * The stored blacklist version the entry was loaded from (absent for lists read straight from
   * files). Not `version`: that name already holds the IP version (4 | 6) above.
   */
  listVersion?: number;
  /** When the entry stops counting (ms since epoch), e.g. a resolved address past its DNS TTL. */
  expiresAt?: number;
}

/** Optional facts a list may give about an entry (CSV and JSON sources carry them). */
export interface EntryLabels {
  /** Lower-case ticker, e.g. "xmr". */
  coin?: string;
  /** Pool or operator name, e.g. "supportxmr". */
  label?: string;
}

/**
 * A blacklisted domain name: matches the name itself and every name below it
 * (`pool.example` matches `pool.example` and `eu.pool.example`, not `badpool.example`).
 */
export interface DomainEntry extends EntryLabels {
  /** Lower-case ASCII name without a trailing dot (IDNs in their xn-- form). */
  name: string;
  /** Inclusive port range; 0 and 65535 when the list named no port. */
  portLo: number;
  portHi: number;
  /** Canonical form: "pool.example", "pool.example:3333", "pool.example:3333-3340". */
  text: string;
  source: string;
  /** The stored blacklist version the entry was loaded from (same name as on BlacklistEntry). */
  listVersion?: number;
  /** When the entry stops counting (ms since epoch). */
  expiresAt?: number;
}

/** Everything one list source yields, whatever its format. */
export interface ListParseResult {
  addresses: (BlacklistEntry & EntryLabels)[];
  domains: DomainEntry[];
  /** Lines or items skipped (PW_ERR_LIST_SYNTAX with context {file, line}). */
  errors: import('../errors.js').PoolwatchError[];
  /** Items kept after a repair the author may not have meant (same code and context). */
  warnings: import('../errors.js').PoolwatchError[];
}

/** The list formats a source may declare in the configuration. */
/** `entries`: addresses and domain names mixed, one a line (what `scan --blacklist` reads). */
export type ListFormat = 'plain' | 'hosts' | 'domains' | 'abp' | 'csv' | 'json' | 'entries';
