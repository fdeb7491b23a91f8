// What every page template can count on, whatever renders it: the asset version, whether
// this is the demo, whether writes are allowed, and the farm's sync status. Computed when a
// page is rendered, never in a hook: errors raised before a route runs (the write guard in
// onRequest, a body too large) skip preHandler hooks, and their error page needs these too.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthMode } from '../config.js';
import type { SyncStatus } from '../farm/store.js';
import type { Identity } from '../http/identity.js';
import { liveGaps } from '../http/visibility.js';
import { liveHref } from './links.js';
import { liveBadgeView, type LiveBadgeView } from './live-badge.js';

export interface PageLocals {
  assetVersion: string;
  demo: boolean;
  readOnly: boolean;
  cluster: string;
  sync: SyncStatus;
  /** The header's live badge, from `sync`. */
  liveBadge: LiveBadgeView;
  /** The address of the page's one event stream, for its topics. */
  liveHref: (topics: readonly string[]) => string;
  path: string;
  /** How people sign in (none: everyone acts as the dashboard). */
  auth: AuthMode;
  /** Who this request acts as; undefined with --auth none. */
  identity: Identity | undefined;
  /** What this page shows that its live stream leaves out (read but not watchable), '' when nothing. */
  liveNote: string;
}

declare module 'fastify' {
  interface FastifyReply {
    locals?: Partial<PageLocals>;
  }
  interface FastifyInstance {
    /** The layout's data for a request: for pages rendered outside reply.view (app.view). */
    pageLocals(request: FastifyRequest): PageLocals;
  }
}

/**
 * Registers reply.locals as a getter, before @fastify/view (which then leaves it alone):
 * reply.view() merges it into every page's data at render time, hooks or not.
 */
export function registerViewHelpers(app: FastifyInstance, { assetVersion }: { assetVersion: string }): void {
  app.decorate('pageLocals', (request: FastifyRequest): PageLocals => {
    const { config, store, cluster } = app.farm;
    const sync = store.syncStatus();
    return {
      assetVersion,
      demo: config.cluster.mode === 'demo',
      readOnly: config.readOnly,
      cluster: cluster.description,
      sync,
      liveBadge: liveBadgeView(sync),
      liveHref,
      path: request.url.split('?')[0] ?? '/',
      auth: config.auth.mode,
      identity: request.identity,
      liveNote: liveGaps(request),
    };
  });
  // What a route or hook assigns to reply.locals is kept and merged over the computed part.
  const assigned = new WeakMap<FastifyReply, Partial<PageLocals>>();
  app.decorateReply('locals', {
    getter(this: FastifyReply) {
      return { ...app.pageLocals(this.request), ...assigned.get(this) };
    },
    setter(this: FastifyReply, value: Partial<PageLocals>) {
      assigned.set(this, value);
    },
  });
}
