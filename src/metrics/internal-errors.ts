// Failures inside the dashboard that no request sees: a store subscriber that throws, a
// live fragment that cannot render, a runner log update that fails. Each is caught where
// it happens so the rest keeps working, and none may pass silently: each is logged at
// error level and counted in droidfarm_internal_errors_total{where} (docs/metrics.md), an
// alert's first clue that pages stopped updating.

/** Where an internal failure was caught: the `where` label, a fixed set. */
export const INTERNAL_ERROR_SITES = [
  /** A FarmStore subscriber (broker, feed, metrics, log followers) threw on a change. */
  'store_subscriber',
  /** An informer's change handler threw: the store did not take a change. */
  'informer_handler',
  /** A live fragment could not be rendered: its region keeps its old content. */
  'live_render',
  /** A live flush failed as a whole: that window's changes were not sent. */
  'live_flush',
  /** A topic listener (log followers, catalog) threw on a topic's first or last viewer. */
  'topic_listener',
  /** A stream could not take its person's refreshed scope (it may show what it showed before). */
  'scope_listener',
  /** A runner log update could not be rendered or sent. */
  'log_update',
  /** A session list page could not be computed for its viewers. */
  'session_list',
  /** An error answer itself failed to go out. */
  'error_page',
  /** A built asset (CSS, JS) is missing at startup (fatal in production). */
  'assets',
] as const;

export type InternalErrorSite = (typeof INTERNAL_ERROR_SITES)[number];

export interface ErrorLog {
  error(obj: object, msg: string): void;
}

/** Until an app gives its logger: stderr, never nowhere. */
const STDERR: ErrorLog = { error: (obj, msg) => console.error(msg, obj) };

export class InternalErrors {
  private readonly counts = new Map<InternalErrorSite, number>(INTERNAL_ERROR_SITES.map((s) => [s, 0]));

  constructor(private readonly log: ErrorLog = STDERR) {}

  /** Logs the failure with what was being done, and counts it. */
  record(where: InternalErrorSite, err: unknown, message: string, context: Record<string, unknown> = {}): void {
    this.counts.set(where, (this.counts.get(where) ?? 0) + 1);
    try {
      this.log.error({ err, where, ...context }, message);
    } catch {
      // A failing logger must not turn a caught failure into an uncaught one; it is counted.
    }
  }

  /** A promise nobody awaits: its rejection is recorded instead of crashing the process. */
  watch(where: InternalErrorSite, promise: Promise<unknown>, message: string, context: Record<string, unknown> = {}): void {
    promise.catch((err: unknown) => this.record(where, err, message, context));
  }

  count(where: InternalErrorSite): number {
    return this.counts.get(where) ?? 0;
  }

  totals(): Array<readonly [InternalErrorSite, number]> {
    return [...this.counts];
  }
}
