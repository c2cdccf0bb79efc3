/**
 * The proxy's configuration model, shared by the IEC104MM2SS CSV reader (config-csv.ts) and the
 * YAML reader (config-yaml.ts). Times are in seconds as users write them.
 */

/** What to do when a master connects from an address that already has a connection in the group. */
export type SameIpPolicy = 'all' | 'old' | 'new';

/** `control` masters may command; `monitor` masters receive data and their commands are refused. */
export type MasterRole = 'control' | 'monitor';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** A master address (IP or CIDR) with its role (YAML only; the CSV gives every master `control`). */
export interface MasterRule {
  readonly address: string;
  readonly role: MasterRole;
}

export interface GroupConfig {
  /** The `id` column: unique per file. */
  readonly id: number;
  /** `sys name`, at most 16 characters. */
  readonly name: string;
  /** Listen port for this group's masters, unique per file. */
  readonly port: number;
  /** `rtu no`: the RTU's common address, 1..65535. */
  readonly rtu: number;
  /** `max conn`: masters connected at once. */
  readonly maxConnections: number;
  /** `idletime`: seconds without traffic after which a link is closed. */
  readonly idleTime: number;
  /**
   * Seconds a connection attempt to a slave host may take before the next host is tried (t0 of
   * clause 9.6). Not a CSV column: IEC104MM2SS uses a fixed 3 s, the default here.
   */
  readonly t0?: number | undefined;
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
  readonly w: number;
  readonly k: number;
  /** `buffsize`: ASDUs queued for one master (and toward the slave) at most. */
  readonly buffSize: number;
  /** `logevents`: write `log/<name>.log`. */
  readonly logEvents: boolean;
  readonly sameIp: SameIpPolicy;
  /** Slave addresses, tried in order, round and round. */
  readonly hosts: readonly HostPort[];
  /** Masters allowed to connect (IPs and CIDR blocks); empty allows all. */
  readonly filter: readonly string[];
  /** Roles by master address; first match wins; unmatched masters are `control`. */
  readonly masters: readonly MasterRule[];
  /** Send interrogated data (COT 20..41) to every started master, not only to the one that asked. */
  readonly interrogationToAll: boolean;
  /**
   * Send a synthetic end of initialisation (M_EI_NA_1 with the RTU number as common address) to
   * each master that starts data transfer, as IEC104MM2SS does (default true).
   */
  readonly endOfInit?: boolean | undefined;
  /** Write this group's traffic to a pcap file. */
  readonly capture?: string | undefined;
}

export interface ProxyConfig {
  readonly groups: readonly GroupConfig[];
  readonly ntpServers: readonly string[];
  /** Seconds between NTP updates (default 900). */
  readonly ntpUpdateEverySec: number;
  readonly nogui: boolean;
}

/**
 * Defaults of IEC104MM2SS where a column is empty (and, reading CSV leniently, where a cell is bad):
 * the values its group class starts with (`max conn` 5, not the 2 of its sample file).
 */
export const GROUP_DEFAULTS = {
  maxConnections: 5,
  idleTime: 60,
  t1: 15,
  t2: 10,
  t3: 20,
  w: 8,
  k: 12,
  buffSize: 1000,
  logEvents: false,
  sameIp: 'all',
  interrogationToAll: false,
} as const;

/**
 * Defaults of settings the CSV has no column for (a CSV group leaves them unset): IEC104MM2SS
 * gives up a connection attempt after a fixed 3 s (t0), and sends a synthetic end of
 * initialisation to each master that starts data transfer.
 */
export const GROUP_EXTRA_DEFAULTS = {
  t0: 3,
  endOfInit: true,
} as const;

export const NTP_DEFAULT_EVERY_SEC = 900;
