/** What the residency parsers produce: per file, how many of its pages a tool saw resident. */

/** Input formats of page-cache residency (detect.ts tells them apart by content). */
export type ResidencyFormat =
  | 'fincore-json' // util-linux `fincore -J` (optionally -b)
  | 'fincore-raw' // util-linux `fincore --raw` (optionally -b)
  | 'vmtouch' // `vmtouch -v`
  | 'pcstat-json' // `pcstat -json`, with or without -pps
  | 'access-list' // one path per line (fatrace/strace/bpftrace traces): the file was read
  | 'host-snapshot'; // `sharemap collect` (snapshot.ts)

/** Where a record came from (1-based line and column, house style). */
export interface ResidencyOrigin {
  file: string;
  line: number;
  column: number;
}

export interface ResidencyRecord {
  /** The path as the tool printed it (unescaped): absolute host path, or relative to where the tool ran. */
  path: string;
  /**
   * Resident pages the tool reported, in its page size; `all` for an access list (the file was
   * read, so every page of it is taken as touched: the static bound restricted to touched files).
   */
  residentPages: number | 'all';
  /** File size in bytes when the tool printed it exactly (fincore -b, pcstat); absent otherwise. */
  size?: number;
  origin: ResidencyOrigin;
}

export interface ResidencyData {
  format: ResidencyFormat;
  file: string;
  /** Page size of the pages counted, when the input tells (fincore -b, snapshots); else the report's. */
  pageSize?: number;
  records: ResidencyRecord[];
}
