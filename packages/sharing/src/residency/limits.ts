/**
 * Bounds on residency input, checked before any work so a hostile upload cannot make the
 * browser or the server spin or allocate without limit. Text inputs also obey the mount
 * parsers' MAX_INPUT_BYTES / MAX_LINES / MAX_LINE_LENGTH (mounts/limits.ts), except that
 * residency inputs may be larger, see below.
 */

/**
 * Largest residency input, in UTF-8 bytes (a decompressed host snapshot included). A fincore
 * line is ~80 bytes; 2 million files (a dense host with 200 images of 10,000 files) fit in 256 MiB.
 */
export const MAX_RESIDENCY_INPUT_BYTES = 256 * 1024 * 1024;

/** Largest number of records (files) in one residency input. */
export const MAX_RESIDENCY_RECORDS = 4_000_000;

/** Longest line of a text residency input (a path is at most PATH_MAX, 4096, escaped up to 4x). */
export const MAX_RESIDENCY_LINE_LENGTH = 64 * 1024;

/** Largest resident-page count accepted for one file (2^40 pages of 4 KiB = 4 EiB): guards arithmetic. */
export const MAX_RESIDENT_PAGES = 2 ** 40;

/** JSON inputs up to this many UTF-16 units get a line:column per record (8 MiB, the mount parsers' bound). */
export const LOCATED_JSON_BYTES = 8 * 1024 * 1024;
