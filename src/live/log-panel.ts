// The runner log panel of a session page, in the farm's words: its topic and element ids,
// the status line for each state of the follow, and the link to the whole log.
import { domId } from '../view/dom-id.js';

/**
 * unknown: the store has not read the cluster yet; missing: no such session; waiting: no
 * runner pod yet; none: the session finished without one; connecting, following, ended,
 * failed: what became of the follow of its pod.
 */
export type LogState = 'unknown' | 'missing' | 'waiting' | 'none' | 'connecting' | 'following' | 'ended' | 'failed';

/** What the log panel template shows: its ids, a status line and the tail. */
export interface LogPanelData {
  [key: string]: unknown;
  id: string;
  statusId: string;
  linesId: string;
  namespace: string;
  name: string;
  state: LogState;
  pod: string;
  message: string;
  text: string;
  /** The same lines as read, a JSON array with the apiserver's times and colour codes (the log viewer page's). */
  raw: string;
  /** The plain-text log for curl and for the whole story. */
  href: string;
  /** The log viewer page (search, wrap, timestamps, line links, download). */
  viewerHref: string;
}

export const LOG_TOPIC_PREFIX = 'log:';
export const logTopic = (namespace: string, name: string): string => `${LOG_TOPIC_PREFIX}${namespace}/${name}`;
/** The log viewer page of a session. */
export const logViewerHref = (namespace: string, name: string): string => `/sessions/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/log`;
export const logHref = (namespace: string, name: string): string => `/api/v1/sessions/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/logs`;

export const panelIds = (namespace: string, name: string) => ({
  id: domId('session-log', namespace, name),
  statusId: domId('session-log-status', namespace, name),
  linesId: domId('session-log-lines', namespace, name),
});

/** What the panel says about the log, in the farm's words. */
export function statusMessage(state: LogState, pod: string, phase: string, detail: string): string {
  switch (state) {
    case 'unknown':
      return 'Waiting for the first data from the cluster.';
    case 'missing':
      return 'This TestSession does not exist (any more), so there is no log to show.';
    case 'waiting':
      return `No runner pod yet: the session is ${phase || 'Pending'}. Its log appears here once the runner starts.`;
    case 'none':
      return `This session ended (${phase}) without a runner pod, so it has no log.`;
    case 'connecting':
      return detail ? `Reconnecting to the log of runner pod ${pod}: ${detail}.` : `Connecting to the log of runner pod ${pod}…`;
    case 'following':
      return `Live: the log of runner pod ${pod}.`;
    case 'ended':
      return `The log of runner pod ${pod} has ended.`;
    case 'failed':
      return `${detail} Retrying in a moment.`;
  }
}

export function parseLogTopic(topic: string): { namespace: string; name: string } | undefined {
  if (!topic.startsWith(LOG_TOPIC_PREFIX)) return undefined;
  const [namespace, name, ...rest] = topic.slice(LOG_TOPIC_PREFIX.length).split('/');
  return namespace && name && rest.length === 0 ? { namespace, name } : undefined;
}

/** The line that stands for lines a page was not sent. */
export function skipNotice(count: number, namespace: string, name: string): string {
  return `[dashboard] … ${count} line${count === 1 ? '' : 's'} not shown: the log grows faster than this page shows it. The whole log: ${logHref(namespace, name)}`;
}
