/**
 * One zustand store built from small slices (route+view, report, live analysis, theme).
 * Components subscribe with selectors to exactly what they read. The data model (Report) is
 * plain data from @sharemap/sharing; the store only holds it and what the user chose. A report
 * arrives in two parts: its head (the server's summary) at once, its per-file parts after.
 */
import { create } from 'zustand';
import type { StateCreator } from 'zustand';
import type { Report, ScenarioResult } from '@sharemap/sharing';
import { api } from '../api/client';
import { headOf, type ReportHead } from '../lib/head';
import { isIdentity, type WhatIf } from '../lib/whatif';
import { fullReport, loadFiles, type LoadedFiles } from './files';
import { DEFAULT_VIEW, formatQuery, parseQuery, parseRoute, type Route, type ViewState } from './url';
import { runAnalysis } from './analysis';
import { rememberReport } from './recent';
import { createStartSlice, type StartSlice } from './start';
import { predictInWorker, scanInWorker } from './scan';

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
  /** The stored report without its per-file parts: arrives first, enough for the headline. */
  head: ReportHead | null;
  /** The whole stored report, once its per-file parts are in (loaded in the background). */
  stored: Report | null;
  /** Loading the summary (the report page waits for it). */
  status: LoadStatus;
  error: string | null;
  /** Loading the per-file parts (views that need them wait for them). */
  filesStatus: LoadStatus;
  filesError: string | null;
  /** The analysis input, loaded by the analysis worker on the first live recompute. */
  inputStatus: LoadStatus;
  loadReport(id: string): Promise<void>;
  ensureInput(): void;
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

export type Store = RouteSlice & ReportSlice & LiveSlice & ThemeSlice & StartSlice;

/**
 * Where a report's parts come from: the server's API, or the data embedded in a static HTML
 * report (src/static, docs/ci.md), which has no analysis input, hence no live recomputes.
 */
export interface ReportSource {
  summary(id: string): Promise<ReportHead>;
  files(id: string): Promise<LoadedFiles>;
  /** Set when live recomputes (what-if, scenarios) are unavailable: the reason shown. */
  noLive?: string;
}

let source: ReportSource = { summary: (id) => api.summary(id), files: (id) => loadFiles(id) };

/** The static report's entry replaces the API with its embedded data (before loading). */
export function setReportSource(s: ReportSource): void {
  source = s;
}

/** Why this page has no analysis input (a static report), or undefined when it has one. */
export function inputUnavailable(): string | undefined {
  return source.noLive;
}

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
  head: null,
  stored: null,
  status: 'idle',
  error: null,
  filesStatus: 'idle',
  filesError: null,
  inputStatus: 'idle',
  async loadReport(id) {
    set({
      reportId: id,
      status: 'loading',
      error: null,
      head: null,
      stored: null,
      filesStatus: 'idle',
      filesError: null,
      inputStatus: 'idle',
      live: null,
      liveKey: '',
      liveError: null,
      scenarioResults: null,
      scenarioKey: '',
    });
    // The per-file parts (millions of rows) load in the background from now on, fetched and
    // decoded in a worker; the summary (kilobytes) gives the first screen.
    const files = source.files(id);
    files.catch(() => undefined); // a failure is reported below, or moot when the summary fails
    let head: ReportHead;
    try {
      head = await source.summary(id);
    } catch (e) {
      if (get().reportId === id) set({ status: 'error', error: (e as Error).message });
      return;
    }
    if (get().reportId !== id) return;
    set({ head, status: 'ready', filesStatus: 'loading' });
    rememberReport(id, head);
    get().recompute();
    try {
      const loaded = await files;
      if (get().reportId !== id) return;
      set({ stored: fullReport(head, loaded), filesStatus: 'ready' });
    } catch (e) {
      if (get().reportId === id) set({ filesStatus: 'error', filesError: (e as Error).message });
    }
  },
  ensureInput() {
    const id = get().reportId;
    if (!id || get().inputStatus === 'loading' || get().inputStatus === 'ready') return;
    set({ inputStatus: 'loading' });
    runAnalysis({ kind: 'input', inputUrl: api.inputUrl(id) }).then(
      () => {
        if (get().reportId === id) set({ inputStatus: 'ready' });
      },
      (e: Error) => {
        if (get().reportId === id)
          set({ inputStatus: 'error', liveError: `cannot load the analysis input: ${e.message}` });
      },
    );
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
    const { v, reportId } = get();
    const w = whatIfOf(v);
    const key = JSON.stringify(w);
    if (isIdentity(w)) {
      set({ live: null, liveKey: '', computing: false });
      if (get().v.view === 'scenarios') get().loadScenarios();
      return;
    }
    if (!reportId || get().status !== 'ready' || key === get().liveKey) return;
    if (source.noLive) {
      set({ liveKey: key, liveError: source.noLive });
      return;
    }
    set({ computing: true, liveKey: key, liveError: null });
    get().ensureInput();
    runAnalysis({ kind: 'analyze', inputUrl: api.inputUrl(reportId), whatIf: w }).then(
      (res) => {
        if (get().liveKey !== key || get().reportId !== reportId) return;
        set({ live: res.report ?? null, computing: false });
        if (get().v.view === 'scenarios') get().loadScenarios();
      },
      (e: Error) => {
        if (get().liveKey === key) set({ computing: false, liveError: e.message });
      },
    );
  },
  loadScenarios() {
    const { v, reportId } = get();
    if (!reportId || get().status !== 'ready') return;
    const w = whatIfOf(v);
    const key = JSON.stringify(w);
    if (key === get().scenarioKey) return;
    if (source.noLive) {
      // The stored report's own scenario results (on the stored input) are all there is.
      set({ scenarioKey: key, scenarioResults: isIdentity(w) ? (get().head?.scenarios ?? []) : [] });
      return;
    }
    set({ scenarioKey: key, scenarioResults: null });
    get().ensureInput();
    runAnalysis({ kind: 'scenarios', inputUrl: api.inputUrl(reportId), whatIf: w }).then(
      (res) => {
        if (get().scenarioKey === key && get().reportId === reportId)
          set({ scenarioResults: res.scenarios ?? [] });
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
  ...createStartSlice({ api, scanInBrowser: scanInWorker, predictInBrowser: predictInWorker })(...a),
}));

/** The full report the views show: the live recompute when the user changed something, else the stored one (null until its files are in). */
export const selectReport = (s: Store): Report | null => s.live ?? s.stored;
/** The head of the report the views show (available before the files). */
export const selectHead = (s: Store): ReportHead | null => (s.live ? headOf(s.live) : s.head);
export const selectView = (s: Store) => s.v;

export { DEFAULT_VIEW };
