/**
 * The messages between the dashboard panel (./panel.ts) and its page (media/dashboard/main.ts).
 * Pure: the page's bundle imports it too.
 *
 * - page → extension: `ready` (loaded, send the data), `retrain`, `rollBack` (run those commands).
 * - extension → page: `data` (a `winnow/dashboard` reply), `unavailable` (no reply, and why).
 */
import type { DashboardResult } from '../../../server/src/protocol';

export type PageMessage = { type: 'ready' } | { type: 'retrain' } | { type: 'rollBack' };
export type HostMessage = { type: 'data'; data: DashboardResult } | { type: 'unavailable'; message: string };

const PAGE_TYPES: ReadonlySet<string> = new Set<PageMessage['type']>(['ready', 'retrain', 'rollBack']);

/** Whether a message from the webview is one the extension handles (nothing else is acted on). */
export function isPageMessage(m: unknown): m is PageMessage {
  const type = typeof m === 'object' && m !== null ? (m as { type?: unknown }).type : undefined;
  return typeof type === 'string' && PAGE_TYPES.has(type);
}
