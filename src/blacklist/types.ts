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
}
