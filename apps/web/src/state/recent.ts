/** Recent reports opened in this browser (localStorage), newest first. */
import { headlineOf, type ReportHead } from '../lib/head';

export interface RecentReport {
  id: string;
  headline: string;
  openedAt: string;
}

const KEY = 'sharemap.recent';
const MAX = 12;

export function recentReports(): RecentReport[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? (v as RecentReport[]).filter((x) => x && typeof x.id === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberReport(id: string, report: ReportHead): void {
  try {
    const list = recentReports().filter((x) => x.id !== id);
    list.unshift({ id, headline: headlineOf(report), openedAt: new Date().toISOString() });
    localStorage.setItem(KEY, JSON.stringify(list.slice(0, MAX)));
  } catch {
    /* storage full or disabled */
  }
}
