/**
 * One zustand store built from small slices (route+view, report, live analysis, theme).
 * Components subscribe with selectors to exactly what they read. The data model (Report) is
 * plain data from @sharemap/sharing; the store only holds it and what the user chose.
 */
import { create } from 'zustand';
import type { StateCreator } from 'zustand';
import type { AnalysisInput, Report, ScenarioResult } from '@sharemap/sharing';
import { api } from '../api/client';
import { isIdentity, type WhatIf } from '../lib/whatif';
import { DEFAULT_VIEW, formatQuery, parseQuery, parseRoute, type Route, type ViewState } from './url';
import { runAnalysis } from './analysis';
import { rememberReport } from './recent';

export type Theme = 'light' | 'dark';
export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

interface RouteSlice {
  route: Route;
  v: ViewState;
  /** Sets view fields; `push` adds a history entry (view switches), else replaces (typing). */
  setView(patch: Partial<ViewState>, push?: boolean): void;
  navigate(path: string): void;
  syncFromLocation(): void;
}

interface ReportSlice {
  reportId: string | null;
  stored: Report | null;
  input: AnalysisInput | null;
  status: LoadStatus;
  error: string | null;
  loadReport(id: string): Promise<void>;
}

interface LiveSlice {
  /** The report recomputed in the worker for the current what-if (null: the stored one applies). */
  live: Report | null;
  liveKey: string;
  computing: boolean;
  liveError: string | null;
  scenarioResults: ScenarioResult[] | null;
  scenarioKey: string;
  recompute(): void;
  loadScenarios(): void;
}

interface ThemeSlice {
  theme: Theme;
  setTheme(t: Theme): void;
}

export type Store = RouteSlice & ReportSlice & LiveSlice & ThemeSlice;

const loc = () => (typeof location === 'undefined' ? { pathname: '/', search: '' } : location);

const routeSlice: StateCreator<Store, [], [], RouteSlice> = (set, get) => ({
  route: parseRoute(loc().pathname),
  v: parseQuery(loc().search),
  setView(patch, push = false) {
    const v = { ...get().v, ...patch };
    set({ v });
    const url = location.pathname + formatQuery(v);
    if (url !== location.pathname + location.search) {
      if (push) history.pushState(null, '', url);
      else history.replaceState(null, '', url);
    }
    if ('dom' in patch || 'scn' in patch) get().recompute();
  },
  navigate(path) {
    history.pushState(null, '', path);
    get().syncFromLocation();
  },
  syncFromLocation() {
    set({ route: parseRoute(location.pathname), v: parseQuery(location.search) });
    const r = get().route;
    if (r.page === 'report' && r.id !== get().reportId) void get().loadReport(r.id);
    else get().recompute();
  },
});

const reportSlice: StateCreator<Store, [], [], ReportSlice> = (set, get) => ({
  reportId: null,
  stored: null,
  input: null,
  status: 'idle',
  error: null,
  async loadReport(id) {
    set({
      reportId: id,
      status: 'loading',
      error: null,
      stored: null,
      input: null,
      live: null,
      liveKey: '',
      scenarioResults: null,
      scenarioKey: '',
    });
    try {
      const report = await api.report(id);
      if (get().reportId !== id) return;
      set({ stored: report, status: 'ready' });
      rememberReport(id, report);
      // The input is only needed for live recomputes; fetch it in the background.
      api.reportInput(id).then(
        (input) => {
          if (get().reportId !== id) return;
          set({ input });
          get().recompute();
        },
        (e: Error) => set({ liveError: `cannot load the analysis input: ${e.message}` }),
      );
    } catch (e) {
      if (get().reportId === id) set({ status: 'error', error: (e as Error).message });
    }
  },
});

const whatIfOf = (v: ViewState): WhatIf => ({ domains: v.dom, scenarios: v.scn });

const liveSlice: StateCreator<Store, [], [], LiveSlice> = (set, get) => ({
  live: null,
  liveKey: '',
  computing: false,
  liveError: null,
  scenarioResults: null,
  scenarioKey: '',
  recompute() {
    const { input, v } = get();
    const w = whatIfOf(v);
    const key = JSON.stringify(w);
    if (isIdentity(w)) {
      set({ live: null, liveKey: '', computing: false });
      if (get().v.view === 'scenarios') get().loadScenarios();
      return;
    }
    if (!input || key === get().liveKey) return;
    set({ computing: true, liveKey: key, liveError: null });
    runAnalysis({ kind: 'analyze', input, whatIf: w }).then(
      (res) => {
        if (get().liveKey !== key) return;
        set({ live: res.report ?? null, computing: false });
        if (get().v.view === 'scenarios') get().loadScenarios();
      },
      (e: Error) => {
        if (get().liveKey === key) set({ computing: false, liveError: e.message });
      },
    );
  },
  loadScenarios() {
    const { input, v } = get();
    if (!input) return;
    const w = whatIfOf(v);
    const key = JSON.stringify(w);
    if (key === get().scenarioKey) return;
    set({ scenarioKey: key, scenarioResults: null });
    runAnalysis({ kind: 'scenarios', input, whatIf: w }).then(
      (res) => {
        if (get().scenarioKey === key) set({ scenarioResults: res.scenarios ?? [] });
      },
      (e: Error) => set({ liveError: e.message }),
    );
  },
});

function initialTheme(): Theme {
  try {
    const t = localStorage.getItem('sharemap.theme');
    if (t === 'light' || t === 'dark') return t;
    return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  } catch {
    return 'light';
  }
}

const themeSlice: StateCreator<Store, [], [], ThemeSlice> = (set) => ({
  theme: typeof document === 'undefined' ? 'light' : initialTheme(),
  setTheme(theme) {
    try {
      localStorage.setItem('sharemap.theme', theme);
    } catch {
      /* private mode */
    }
    document.documentElement.dataset.theme = theme;
    set({ theme });
  },
});

export const useStore = create<Store>()((...a) => ({
  ...routeSlice(...a),
  ...reportSlice(...a),
  ...liveSlice(...a),
  ...themeSlice(...a),
}));

/** The report the views show: the live recompute when the user changed something, else the stored one. */
export const selectReport = (s: Store): Report | null => s.live ?? s.stored;
export const selectView = (s: Store) => s.v;

export { DEFAULT_VIEW };
