/**
 * Content ids of the current report's files (lib/pairs.ts), computed once per report in the
 * analysis worker from the analysis input. Only the views that show same-content-across-domains
 * ask for them (the graph, the matrix, a pair's files), so other views never load the input.
 */
import { useEffect } from 'react';
import { create } from 'zustand';
import type { ContentIds } from '../lib/pairs';
import { api } from '../api/client';
import { runAnalysis } from './analysis';
import { inputUnavailable, useStore } from './store';

interface ContentState {
  reportId: string | null;
  ids: ContentIds | null;
  error: string | null;
}

const useContent = create<ContentState>(() => ({ reportId: null, ids: null, error: null }));

function load(reportId: string): void {
  if (useContent.getState().reportId === reportId) return;
  useContent.setState({ reportId, ids: null, error: null });
  runAnalysis({ kind: 'contents', inputUrl: api.inputUrl(reportId) }).then(
    (reply) => {
      if (useContent.getState().reportId === reportId)
        useContent.setState({ ids: reply.contents ?? null, error: reply.contents ? null : 'no content ids' });
    },
    (e: Error) => {
      if (useContent.getState().reportId === reportId) useContent.setState({ error: e.message });
    },
  );
}

/**
 * The content ids of the report on screen: null while they load, and for good where there is no
 * analysis input (a static HTML report) or it failed (`error`). `wanted` false (a view that
 * only needs them for one filter, when it is off) loads nothing: the input is large.
 */
export function useContentIds(wanted = true): { ids: ContentIds | null; error: string | null } {
  const reportId = useStore((s) => s.reportId);
  const hasInput = inputUnavailable() === undefined;
  useEffect(() => {
    if (wanted && reportId && hasInput) load(reportId);
  }, [wanted, reportId, hasInput]);
  const st = useContent();
  return st.reportId === reportId ? { ids: st.ids, error: st.error } : { ids: null, error: null };
}
