/**
 * The one list of definitions for every term the UI shows: the inline definitions (components/
 * Term.tsx, on hover and focus) and docs/glossary.md (apps/web/test/lib/glossary.test.ts fails
 * when the page and this list drift; `UPDATE_GLOSSARY=1` rewrites the page). Wording follows
 * docs/sharing-rules.md and docs/metrics.md, where each term is defined in full.
 */

export interface GlossaryEntry {
  /** Anchor of the entry (docs/glossary.md#<id>, `#gl-<id>` in the UI). */
  id: string;
  term: string;
  /** One or two sentences: what the inline definition shows. */
  text: string;
  /** Where it is defined in full (a docs/ page and anchor, relative to docs/). */
  more: string;
}

export const TERMS = {
  inodeShare: {
    id: 'inode-share',
    term: 'inode_share',
    text: 'The EROFS mount option (Linux 7.0) that lets files with the same fingerprint in one domain share one copy of their page cache. It needs domain_id= too; without it nothing shares.',
    more: 'sharing-rules.md#r2',
  },
  domain: {
    id: 'domain',
    term: 'domain',
    text: 'The trust group of a mount, set by domain_id=. Files share page cache only within one domain: the same content in two domains is cached twice. The id is a secret, so reports show labels.',
    more: 'sharing-rules.md#r11',
  },
  unknownDomain: {
    id: 'unknown-domain',
    term: 'unknown domain',
    text: 'An instance whose domain_id the input does not tell (e.g. mountinfo hides it). Figures put it alone and give the range over every domain it could be in.',
    more: 'metrics.md#totals-totals-for-the-report-and-each-instance-domain-image',
  },
  aops: {
    id: 'aops-class',
    term: 'aops class',
    text: 'How a file’s pages are read: compressed (compressed layouts), block (on a block device) or file-backed (on an image file). A shared inode’s first member fixes it; a file of another class stays private.',
    more: 'sharing-rules.md#r6',
  },
  sharedInode: {
    id: 'shared-inode',
    term: 'shared inode',
    text: 'One anonymous inode whose page cache all members use: the files of one fingerprint, domain and aops class, of the size the first member fixed.',
    more: 'format.md#sharing-key',
  },
  firstMember: {
    id: 'first-member',
    term: 'first member',
    text: 'The file that reads a shared content first: it fixes the size and aops class, and the kernel charges the shared pages to it. “First member pays” shows memory that way.',
    more: 'sharing-rules.md#r5',
  },
  fairShare: {
    id: 'fair-share',
    term: 'fair share',
    text: 'What an instance costs with sharing when each shared page’s bytes are divided among its members (like PSS in smem). The fair shares add up to the total with sharing.',
    more: 'sharing-rules.md#accounting-host-total-fair-share-containers-costts',
  },
  hostTotal: {
    id: 'host-total',
    term: 'host total',
    text: 'What the host’s page cache holds for these mounts: the image files’ data with sharing plus the page cache that never shares, such as the backing file of file-backed mounts.',
    more: 'sharing-rules.md#accounting-host-total-fair-share-containers-costts',
  },
  hostCost: {
    id: 'host-cost',
    term: 'host cost',
    text: 'An instance’s fair share plus its own page cache that never shares (its backing file, R8).',
    more: 'sharing-rules.md#accounting-host-total-fair-share-containers-costts',
  },
  readOrder: {
    id: 'read-order-range',
    term: 'read-order range',
    text: 'Where contents of one key come in several sizes or aops classes, whichever file is read first decides what shares: the range is memory with sharing under the luckiest and the unluckiest order.',
    more: 'metrics.md#totals-totals-for-the-report-and-each-instance-domain-image',
  },
  fingerprint: {
    id: 'fingerprint',
    term: 'fingerprint',
    text: 'The xattr mkfs.erofs writes on a file (usually sha256: and the digest of its content). With the domain id it is the sharing key; files without one never share.',
    more: 'sharing-rules.md#r4',
  },
  crossDomain: {
    id: 'cross-domain-duplicate',
    term: 'same content, not shared',
    text: 'Files with the same content on instances of different domains: each domain caches its own copy, because the sharing key includes the domain id.',
    more: 'sharing-rules.md#r4',
  },
} satisfies Record<string, GlossaryEntry>;

export type TermKey = keyof typeof TERMS;

/** The kernel's sharing rules in plain words (docs/sharing-rules.md#r1 .. #r12). */
export const RULES: GlossaryEntry[] = [
  ['Only regular files share.'],
  [
    'A mount shares only with inode_share and domain_id. inode_share without domain_id, or with dax=always, fails the mount; domain_id alone shares nothing.',
  ],
  ['An image without the ISHARE_XATTRS compat feature silently turns inode_share off.'],
  [
    'The sharing key is the fingerprint xattr value followed by the domain id. No fingerprint, an empty one or one longer than a block: the file stays private.',
  ],
  ['The first member fixes the size; later files of another size stay private.'],
  ['The first member also fixes the aops class (compressed, block device or file-backed).'],
  ['Shared memory is decompressed data: ceil(size / page size) pages.'],
  ['Metadata, the compressed cache, the packed inode and the backing file’s cache never share.'],
  ['Two mounts of one block device are one superblock; file-backed mounts of one file are separate.'],
  ['Hard links are one inode (counted once); two inodes with the same key in one image share.'],
  ['The domain id is a secret, never printed; mountinfo inputs have unknown domains.'],
  [
    'Within a domain the first reader supplies the pages for all members: a wrong fingerprint is an integrity risk for every other image of the domain.',
  ],
].map(([text], k) => ({
  id: `r${k + 1}`,
  term: `R${k + 1}`,
  text: text!,
  more: `sharing-rules.md#r${k + 1}`,
}));

/** Every entry, terms first, then the rules. */
export const GLOSSARY: GlossaryEntry[] = [...Object.values(TERMS), ...RULES];

/** The rule entry of an R-code ("R4"), or undefined. */
export function ruleEntry(code: string): GlossaryEntry | undefined {
  const m = /^R(\d{1,2})$/.exec(code);
  return m ? RULES[Number(m[1]) - 1] : undefined;
}

/** docs/glossary.md, as generated from these definitions. */
export function glossaryMarkdown(): string {
  const lines = [
    '# Glossary',
    '',
    'Every term the web UI shows, defined once. The UI shows the same words on hover and on',
    'keyboard focus of a term (`apps/web/src/lib/glossary.ts`, the one source; this page is',
    'generated from it and `apps/web/test/lib/glossary.test.ts` fails when the two drift:',
    '`UPDATE_GLOSSARY=1 pnpm exec vitest run apps/web/test/lib/glossary.test.ts` rewrites it).',
    '',
    '## Terms',
    '',
  ];
  const entry = (e: GlossaryEntry) => [
    `<a id="${e.id}"></a>**${e.term}**: ${e.text} More: [${e.more}](${e.more}).`,
    '',
  ];
  for (const e of Object.values(TERMS)) lines.push(...entry(e));
  lines.push(
    '## Sharing rules',
    '',
    'The rules the engine applies (R-codes in findings and explanations):',
    '',
  );
  for (const e of RULES) lines.push(...entry(e));
  return lines.join('\n');
}
