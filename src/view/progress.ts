// A session's progress as the pages show it: completed of total, and the bar's width.
import type { SessionView } from '../farm/types.js';

export interface ProgressView {
  completed: number;
  total: number;
  /** 0–100, never above 100 even when a runner reports more completed than total. */
  percent: number;
}

/** undefined when the runner reported no progress (or a total of 0: nothing to measure). */
export function progressView(progress: SessionView['progress']): ProgressView | undefined {
  if (!progress || progress.total <= 0) return undefined;
  return { ...progress, percent: Math.min(100, Math.round((100 * progress.completed) / progress.total)) };
}
