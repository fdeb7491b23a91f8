// What every page template can count on, whatever route renders it: the asset version,
// whether this is the demo, whether writes are allowed, and the farm's sync status.
import type { FastifyInstance } from 'fastify';
import type { SyncStatus } from '../farm/store.js';

export interface PageLocals {
  assetVersion: string;
  demo: boolean;
  readOnly: boolean;
  cluster: string;
  sync: SyncStatus;
  path: string;
}

declare module 'fastify' {
  interface FastifyReply {
    locals?: Partial<PageLocals>;
  }
}

export function registerViewHelpers(app: FastifyInstance, { assetVersion }: { assetVersion: string }): void {
  app.addHook('preHandler', async (request, reply) => {
    const { config, store, cluster } = app.farm;
    reply.locals = {
      assetVersion,
      demo: config.cluster.mode === 'demo',
      readOnly: config.readOnly,
      cluster: cluster.description,
      sync: store.syncStatus(),
      path: request.url.split('?')[0] ?? '/',
    } satisfies PageLocals;
  });
}
