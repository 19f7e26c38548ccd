/// <reference lib="webworker" />
/**
 * Runs the sharing model (`analyze`) off the main thread: the live recompute when the user
 * reassigns domains or applies scenarios, and the scenario table.
 */
import { analyze, runScenarios, standardScenarios } from '@sharemap/sharing';
import type { AnalysisInput } from '@sharemap/sharing';
import { applyWhatIf, type WhatIf } from '../lib/whatif';

export type AnalysisRequest =
  | { seq: number; kind: 'analyze'; input: AnalysisInput; whatIf: WhatIf }
  | { seq: number; kind: 'scenarios'; input: AnalysisInput; whatIf: WhatIf };

declare const self: DedicatedWorkerGlobalScope;

let input: AnalysisInput | null = null;

self.onmessage = (e: MessageEvent<AnalysisRequest>) => {
  const m = e.data;
  try {
    input = m.input ?? input;
    const effective = applyWhatIf(input!, m.whatIf);
    const t0 = performance.now();
    if (m.kind === 'analyze') {
      const report = analyze(effective);
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
