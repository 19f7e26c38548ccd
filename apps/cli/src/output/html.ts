/**
 * `--html FILE`: the self-contained HTML report (packages/report-wire `static.ts`), the web
 * UI's static-report template filled with the report. The template is found next to the
 * bundled CLI (the packed package ships it as dist/report-template.html), else in the
 * workspace's built web UI (apps/web/dist, `pnpm build`).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { renderStaticReport, StaticTemplateError } from '@sharemap/report-wire';
import { headline, type Report } from '@sharemap/sharing';
import { inputError } from '../errors.js';

export const TEMPLATE_NAME = 'report-template.html';

/** Where the template may be, first match wins ($SHAREMAP_REPORT_TEMPLATE: only there). */
export function templateCandidates(env: Record<string, string | undefined>): string[] {
  if (env.SHAREMAP_REPORT_TEMPLATE) return [env.SHAREMAP_REPORT_TEMPLATE];
  return [
    // The packed CLI: one bundle in dist/ with the template beside it.
    fileURLToPath(new URL(`./${TEMPLATE_NAME}`, import.meta.url)),
    // The workspace: apps/cli/{src,dist}/output/ -> apps/web/dist/.
    fileURLToPath(new URL(`../../../web/dist/${TEMPLATE_NAME}`, import.meta.url)),
  ];
}

export async function loadTemplate(env: Record<string, string | undefined>): Promise<string> {
  for (const path of templateCandidates(env)) {
    try {
      return await readFile(path, 'utf8');
    } catch {
      /* next */
    }
  }
  throw inputError(
    `--html: the report template (${TEMPLATE_NAME}) is missing; build the web UI first (pnpm build)`,
  );
}

export function renderHtml(template: string, report: Report): string {
  try {
    // Level 6: near level 9's size at a fraction of its time on fleet-sized reports.
    const gzip = (b: Uint8Array): Uint8Array => gzipSync(b, { level: 6 });
    return renderStaticReport(template, report, gzip, `sharemap: ${headline(report)}`);
  } catch (e) {
    if (e instanceof StaticTemplateError) throw inputError(`--html: ${e.message}`);
    throw e;
  }
}
