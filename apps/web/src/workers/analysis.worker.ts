/// <reference lib="webworker" />
/**
 * Runs the sharing model (`analyze`) off the main thread: the live recompute when the user
 * reassigns domains or applies scenarios, and the scenario table. The worker fetches and parses
 * the report's analysis input itself (`GET /api/reports/:id/input`, once per report), so a large
 * input is never parsed or copied on the main thread.
 */
import {
  analyze,
  canonicalAnalysisInput,
  contentIdsByImage,
  runScenarios,
  standardScenarios,
  withTrust,
} from '@sharemap/sharing';
import type { AnalysisInput } from '@sharemap/sharing';
import { errorOf } from '../api/client';
import { applyWhatIf, type WhatIf } from '../lib/whatif';

export type AnalysisRequest =
  | { seq: number; kind: 'input'; inputUrl: string }
  | { seq: number; kind: 'analyze'; inputUrl: string; whatIf: WhatIf }
  | { seq: number; kind: 'scenarios'; inputUrl: string; whatIf: WhatIf }
  /** The content id of every file of every image (lib/pairs.ts: same content across domains). */
  | { seq: number; kind: 'contents'; inputUrl: string };

declare const self: DedicatedWorkerGlobalScope;

let loaded: { url: string; input: Promise<AnalysisInput> } | null = null;

function inputOf(url: string): Promise<AnalysisInput> {
  if (loaded?.url !== url) {
    const input = fetch(url).then(async (res) => {
      if (!res.ok) throw await errorOf(res);
      return (await res.json()) as AnalysisInput;
    });
    loaded = { url, input };
    input.catch(() => {
      if (loaded?.input === input) loaded = null; // a later request tries again
    });
  }
  return loaded.input;
}

self.onmessage = async (e: MessageEvent<AnalysisRequest>) => {
  const m = e.data;
  try {
    const input = await inputOf(m.inputUrl);
    if (m.kind === 'input') {
      self.postMessage({ seq: m.seq, ok: true });
      return;
    }
    if (m.kind === 'contents') {
      const contents = contentIdsByImage(input.images);
      self.postMessage(
        { seq: m.seq, ok: true, contents },
        Object.values(contents).map((a) => a.buffer),
      );
      return;
    }
    // The same canonical image order as the server and the CLI (packages/sharing
    // analysis-input.ts), so a live recompute of unchanged inputs is the stored report.
    const effective = canonicalAnalysisInput(applyWhatIf(input, m.whatIf));
    const t0 = performance.now();
    if (m.kind === 'analyze') {
      // The live report keeps its trust model (the Trust view follows what-ifs too).
      const report = withTrust(analyze(effective), effective);
      self.postMessage({ seq: m.seq, ok: true, report, ms: performance.now() - t0 });
    } else {
      const base = analyze(effective);
      const scenarios = runScenarios(effective, standardScenarios(effective), base);
      self.postMessage({ seq: m.seq, ok: true, scenarios, ms: performance.now() - t0 });
    }
  } catch (err) {
    self.postMessage({ seq: m.seq, ok: false, error: (err as Error).message });
  }
};
