/**
 * The trust model as a write-up: `sharemap analyze --threat-model` text and the Markdown
 * section of `--markdown`. Both print the same statements, figures and files as the JSON
 * (`Report.trust`) and the web UI's Trust view; every statement ends with its rule.
 */
import { formatBytes, formatInteger } from '../render/bytes.js';
import { ATTACKER_NEEDS } from './model.js';
import { FINGERPRINT_BINDINGS, type TrustModel, type TrustStatement } from './types.js';

/** Exact bytes, then the scaled figure: "1,634,304 bytes (1.6 MiB)". */
export function trustBytes(n: number): string {
  return n < 1024 ? `${formatInteger(n)} bytes` : `${formatInteger(n)} bytes (${formatBytes(n)})`;
}

/** "pages published by A are read by instances of B" labels of a model's parties. */
export function partyLabels(model: TrustModel): Map<string, string> {
  return new Map(model.parties.map((p) => [p.key, p.label]));
}

function filesNote(s: TrustStatement): string {
  if (!s.rowCount) return '';
  const ex =
    s.examples && s.examples.length > 0
      ? `: ${s.examples.join(', ')}${s.rowCount > s.examples.length ? ', ...' : ''}`
      : '';
  return ` Files: ${formatInteger(s.rowCount)} row(s)${ex}.`;
}

function imageNames(model: TrustModel): Map<string, string> {
  return new Map(model.fingerprints.map((f) => [f.imageId, f.name]));
}

export function renderTrustText(model: TrustModel): string {
  const party = partyLabels(model);
  const img = imageNames(model);
  const sharingDomains = model.domains;
  const out: string[] = [
    `Threat model of page cache sharing (inode_share): ${sharingDomains.length} domain(s), ${model.parties.length} publisher(s) or images of unknown publisher.`,
    'Each statement ends with the rule it rests on [docs/sharing-rules.md, docs/trust.md] and the files behind it.',
    '',
    '1. Who can affect whose pages',
  ];
  for (const d of sharingDomains) {
    out.push(`  Domain ${d.label}${d.unknown ? ' (domain unknown)' : ''}:`);
    for (const s of d.statements) out.push(`    - ${s.text} [${s.rule}]${filesNote(s)}`);
  }
  if (sharingDomains.length === 0) out.push('  No instance shares: no image can affect another. [R2]');
  out.push('', '  Publisher x publisher: pages published by A are read by instances of B [R5, R12]');
  if (model.matrix.length === 0) out.push('    none: no shared inode has members from more than one image.');
  for (const c of model.matrix)
    out.push(
      `    ${party.get(c.supplier) ?? c.supplier} -> ${party.get(c.reader) ?? c.reader}: ${trustBytes(c.bytes)}, ${formatInteger(c.files)} file(s), ${formatInteger(c.inodes)} shared inode(s) in ${c.domains.join(', ')} (e.g. ${c.examples.join(', ')})`,
    );
  out.push('', '  Per instance, the images it trusts implicitly [R12, docs/format.md#shared-runtime]:');
  for (const i of model.instances) {
    if (i.trustsImplicitly.length === 0) continue;
    const reads = i.reads.map(
      (r) =>
        `${formatInteger(r.files)} file(s), ${trustBytes(r.bytes)} from ${img.get(r.imageId) ?? r.imageId}`,
    );
    out.push(
      `    ${i.label} (${img.get(i.imageId) ?? i.imageId}, domain ${i.domain ?? '-'}): trusts ${i.trustsImplicitly.map((x) => img.get(x) ?? x).join(', ')}${reads.length > 0 ? `; reads ${reads.join('; ')}` : ''}`,
    );
  }
  if (model.instances.every((i) => i.trustsImplicitly.length === 0)) out.push('    none.');

  out.push('', '2. What the fingerprints are bound to');
  for (const f of model.fingerprints) {
    const counts = FINGERPRINT_BINDINGS.map((b) => `${b} ${formatInteger(f.counts[b])}`).join(', ');
    out.push(
      `  ${f.name} (publisher ${f.publisher ?? 'unknown'}${f.hashed ? ', scanned with --hash' : ', not hashed'}): ${counts}, no fingerprint ${formatInteger(f.none)}`,
    );
    for (const s of f.statements) out.push(`    - ${s.text} [${s.rule}]${filesNote(s)}`);
  }
  out.push('  What an attacker needs to substitute content, by binding:');
  for (const b of FINGERPRINT_BINDINGS) out.push(`    ${b}: ${ATTACKER_NEEDS[b]}`);
  out.push('', '  Boundary breaks (a key shared across domains):');
  if (model.boundaryBreaks.length === 0) out.push('    none found. [R4, R11]');
  for (const b of model.boundaryBreaks)
    out.push(`    - ${b.code}: ${b.message} [R4, R11] Files: ${formatInteger(b.rowCount)} row(s).`);

  out.push('', '3. Lifetime');
  for (const s of model.lifetime.statements) out.push(`  - ${s.text} [${s.rule}]${filesNote(s)}`);

  out.push('', '4. Policy');
  if (!model.policy) out.push('  No trust policy set (.sharemap.yml `trust:`).');
  else {
    out.push(
      `  Policy: ${JSON.stringify(model.policy.policy)}; result: ${model.policy.passed ? 'PASSED' : 'FAILED'}`,
    );
    for (const c of model.policy.checks)
      out.push(`    ${c.ok ? 'ok  ' : 'FAIL'}  ${c.id}: ${c.message} [${c.ruleRef}]`);
  }
  return out.join('\n') + '\n';
}

function esc(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function mdStatement(s: TrustStatement): string {
  const files = s.rowCount
    ? ` Files (${formatInteger(s.rowCount)}): ${(s.examples ?? []).map((e) => `\`${e.replace(/`/g, "'")}\``).join(', ')}${s.rowCount > (s.examples?.length ?? 0) ? ', ...' : ''}`
    : '';
  return `- ${esc(s.text)} _[${s.rule}]_${files}`;
}

/** The `#### Trust` section of the Markdown report. */
export function renderTrustMarkdown(model: TrustModel): string {
  const party = partyLabels(model);
  const out: string[] = ['', '#### Trust: who can affect whose pages', ''];
  for (const d of model.domains) {
    out.push(`**Domain ${esc(d.label)}**${d.unknown ? ' (unknown)' : ''}`, '');
    for (const s of d.statements) out.push(mdStatement(s));
    out.push('');
  }
  out.push(
    '| pages published by | are read by instances of | bytes | files | shared inodes | domains |',
    '|---|---|---:|---:|---:|---|',
  );
  for (const c of model.matrix)
    out.push(
      `| ${esc(party.get(c.supplier) ?? c.supplier)} | ${esc(party.get(c.reader) ?? c.reader)} | ${formatInteger(c.bytes)} | ${formatInteger(c.files)} | ${formatInteger(c.inodes)} | ${esc(c.domains.join(', '))} |`,
    );
  if (model.matrix.length === 0) out.push('| - | - | 0 | 0 | 0 | |');
  out.push(
    '',
    '| image | publisher | content-bound | verified-mismatch | unverifiable | publisher-defined | no fingerprint |',
    '|---|---|---:|---:|---:|---:|---:|',
  );
  for (const f of model.fingerprints)
    out.push(
      `| ${esc(f.name)} | ${esc(f.publisher ?? 'unknown')} | ${FINGERPRINT_BINDINGS.map((b) => formatInteger(f.counts[b])).join(' | ')} | ${formatInteger(f.none)} |`,
    );
  out.push('');
  for (const f of model.fingerprints)
    for (const s of f.statements)
      if (s.binding !== 'content-bound' && s.binding !== undefined) out.push(mdStatement(s));
  for (const b of model.boundaryBreaks)
    out.push(`- **boundary break** \`${b.code}\`: ${esc(b.message)} _[R4, R11]_`);
  for (const s of model.lifetime.statements) out.push(mdStatement(s));
  if (model.policy) {
    out.push(
      '',
      `Trust policy \`${esc(JSON.stringify(model.policy.policy))}\`: ${model.policy.passed ? 'passed' : '**failed**'}`,
      '',
    );
    for (const c of model.policy.checks)
      out.push(`- ${c.ok ? 'ok' : '**failed**'} \`${c.id}\`: ${esc(c.message)} _[${c.ruleRef}]_`);
  }
  return out.join('\n') + '\n';
}
