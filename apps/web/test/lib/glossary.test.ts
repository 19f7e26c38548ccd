import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GLOSSARY, glossaryMarkdown, RULES, ruleEntry, TERMS } from '../../src/lib/glossary';

const page = new URL('../../../../docs/glossary.md', import.meta.url);
const docs = new URL('../../../../docs/', import.meta.url);

describe('glossary', () => {
  it('docs/glossary.md is generated from lib/glossary.ts (UPDATE_GLOSSARY=1 rewrites it)', () => {
    if (process.env.UPDATE_GLOSSARY === '1') writeFileSync(page, glossaryMarkdown());
    expect(readFileSync(page, 'utf8')).toBe(glossaryMarkdown());
  });

  it('has one entry per term the UI shows and per rule R1-R12, each with a unique anchor', () => {
    expect(RULES.map((r) => r.term)).toEqual(Array.from({ length: 12 }, (_, k) => `R${k + 1}`));
    expect(Object.values(TERMS).map((t) => t.term)).toEqual(
      expect.arrayContaining([
        'aops class',
        'inode_share',
        'domain',
        'first member',
        'fair share',
        'host total',
        'read-order range',
      ]),
    );
    const ids = GLOSSARY.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ruleEntry('R4')?.more).toBe('sharing-rules.md#r4');
    expect(ruleEntry('R13')).toBeUndefined();
    expect(ruleEntry('R')).toBeUndefined();
  });

  it('every "more" link names a docs page and an anchor that exist', () => {
    for (const e of GLOSSARY) {
      const [file, anchor] = e.more.split('#');
      const url = new URL(file!, docs);
      expect(existsSync(url), e.more).toBe(true);
      const text = readFileSync(url, 'utf8');
      // An explicit <a id> or a heading whose GitHub slug is the anchor.
      const slugs = [...text.matchAll(/^#+ (.*)$/gm)].map((m) =>
        m[1]!
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      );
      expect(text.includes(`id="${anchor}"`) || slugs.includes(anchor!), e.more).toBe(true);
    }
  });
});
