/**
 * Each command's one-line summary, for its spec and for `sharemap --help`: the global help
 * lists the commands from here without loading them (loading all six was 0.2-0.3 s of CPU).
 */
export const COMMAND_SUMMARIES = {
  scan: 'Read an EROFS image and print its manifest: image summary and one record per path.',
  analyze: 'Compute which files share page cache under inode_share and how much memory that saves, locally.',
  upload:
    'Upload images (or only their manifests) and mount configurations to a sharemap server, print the report link, gate on thresholds.',
  collect:
    'Snapshot the page-cache residency of every EROFS mount of this host (for the measured working set).',
  token: 'Create, list or revoke API tokens for CI uploads (stored hashed by the server; printed once).',
  serve: 'Start the sharemap server (API and web UI) in the foreground.',
} as const;

export type CommandName = keyof typeof COMMAND_SUMMARIES;
