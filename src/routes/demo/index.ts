// The embedded demo's stand-ins for what a real farm serves elsewhere: a device's WebRTC
// page, so "open stream" shows something without a real Cuttlefish, and the sessions'
// artifact files, so every artifact link of a demo session downloads something.
// Registered only in demo mode.
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../http/errors.js';
import { DEMO_ARTIFACT_BASE, demoArtifact } from '../../sim/artifacts.js';
import { pathParams } from '../../http/schema.js';

export default async function demoRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { namespace: string; device: string } }>('/demo/stream/:namespace/:device', { schema: { summary: "The demo's stand-in for a device's WebRTC page", params: pathParams('namespace', 'device') } }, async (request, reply) => {
    const { namespace, device } = request.params;
    const d = app.farm.store.listPools(namespace).flatMap((p) => p.devices).find((x) => x.name === device);
    // Framed by the dashboard itself: this page alone may be framed, and only by us.
    reply.header('Content-Security-Policy', "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'self'");
    return reply.view('/pages/demo-stream', { device, state: d?.state ?? 'unknown', session: d?.session ?? '' });
  });

  app.get<{ Params: { namespace: string; session: string; file: string } }>(`${DEMO_ARTIFACT_BASE}/:namespace/:session/:file`, { schema: { summary: "A demo session's artifact file", params: pathParams('namespace', 'session', 'file') } }, async (request, reply) => {
    const { namespace, session: name, file } = request.params;
    const session = app.farm.store.getSession(namespace, name);
    // Only what the session lists: its status says which files exist.
    if (!session || !session.artifacts.some((a) => a.name === file)) throw notFound(`Artifact ${file} of TestSession ${namespace}/${name}`);
    const artifact = demoArtifact(file, { namespace, session: name, phase: session.phase, results: session.results });
    if (!artifact) throw notFound(`Artifact ${file} of TestSession ${namespace}/${name}`);
    // A download, never a page: even opened directly it cannot run anything.
    reply.header('Content-Security-Policy', "default-src 'none'; img-src 'self'; media-src 'self'; sandbox");
    reply.header('Content-Disposition', `attachment; filename="${file}"`);
    reply.header('Cache-Control', 'private, max-age=300');
    return reply.type(artifact.contentType).send(artifact.body);
  });
}
