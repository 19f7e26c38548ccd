/** The CLI renderers print the host total, fair share and containers (model/cost.ts) on a worked figure. */
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/model/engine.js';
import { inputOf, inst } from '../model-fixtures.js';
import { renderMarkdown } from '../../src/render/markdown.js';
import { renderText } from '../../src/render/text.js';

// base-v1.fp : acme, base-v2.fp : acme (docs/sharing-rules.md): 6,946,816 bytes with sharing,
// 3,538,944 + 3,571,712 bytes of backing files; web uses both mounts, api only base-v2's.
const report = analyze(
  inputOf([
    { ...inst('m1', 'base-v1.fp', 'acme'), users: ['web'] },
    { ...inst('m2', 'base-v2.fp', 'acme'), users: ['web', 'api'] },
  ]),
);

describe('cost in the renderers', () => {
  it('text: host total, fair share and host cost per instance, containers', () => {
    const lines = renderText(report).split('\n');
    expect(lines).toContain(
      '  host page cache: 13.4 MiB with sharing (6.6 MiB of image files + 6.8 MiB of backing-file cache), 14.0 MiB without',
    );
    expect(lines).toContain(
      '  /run/images/m2  acme     sharing                     3.6 MiB ->    3.0 MiB  fair    3.3 MiB  host    6.7 MiB',
    );
    expect(lines).toContain(
      '  web          7.3 MiB ->    6.6 MiB  fair    5.0 MiB  host   10.0 MiB  (2 instances)',
    );
  });

  it('markdown: fair share and host cost columns, first member pays labelled, a containers table', () => {
    const md = renderMarkdown(report);
    expect(md).toContain(
      '| instance | image | domain | state | without | fair share | host cost | with (first member pays) |',
    );
    expect(md).toContain(
      '| /run/images/m1 | base-v1.fp.img | acme | sharing | 3.6 MiB | 3.3 MiB | 6.7 MiB | 3.6 MiB |',
    );
    expect(md).toContain('| api | 1 | 3.6 MiB | 3.6 MiB | 1.7 MiB | 3.4 MiB |');
  });
});
