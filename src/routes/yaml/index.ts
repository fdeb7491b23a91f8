// "YAML" on the pool, device and session pages: the object as the apiserver holds it now
// (managedFields left out), read on demand through the Cluster interface and cached
// nowhere. htmx gets the tab's body (with Copy and Reload); anything else gets the YAML
// itself as text, so `curl …/yaml` works too. A device is an entry of its pool's
// status.devices, shown as that entry.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeError, notFound } from '../../http/errors.js';
import { timeView } from '../../view/format.js';
import { wantsFragment } from '../../http/negotiate.js';
import { toYaml } from '../../view/yaml.js';
import { fetchRaw } from '../../kube/raw-object.js';
import type { ResourceName } from '../../kube/resources.js';
import { deviceHref, poolHref, sessionHref } from '../../view/links.js';
import { pathParams } from '../../http/schema.js';

interface Found {
  yaml: string;
  resourceVersion: string;
}

type Params = { namespace: string; name: string; device?: string };

export default async function yamlRoutes(app: FastifyInstance): Promise<void> {
  const { cluster } = app.farm;

  async function read(resource: ResourceName, kind: string, namespace: string, name: string): Promise<Found> {
    const object = await fetchRaw(cluster, resource, namespace, name);
    if (!object) throw notFound(`${kind} ${namespace}/${name}`);
    return { yaml: toYaml(object), resourceVersion: object.metadata.resourceVersion ?? '' };
  }

  async function readDevice(namespace: string, pool: string, device: string): Promise<Found> {
    const object = await fetchRaw(cluster, 'pools', namespace, pool);
    if (!object) throw notFound(`DevicePool ${namespace}/${pool}`);
    const list = ((object.status as { devices?: unknown } | undefined)?.devices ?? []) as unknown[];
    const index = Array.isArray(list) ? list.findIndex((d) => (d as { name?: unknown } | null)?.name === device) : -1;
    if (index < 0) throw notFound(`Device ${device} of pool ${namespace}/${pool}`);
    const rv = object.metadata.resourceVersion ?? '';
    const header = `# DevicePool ${namespace}/${pool}, status.devices[${index}] (resourceVersion ${rv})\n`;
    return { yaml: header + toYaml(list[index]), resourceVersion: rv };
  }

  async function answer(request: FastifyRequest, reply: FastifyReply, href: string, load: () => Promise<Found>) {
    if (!wantsFragment(request)) {
      const found = await load();
      return reply.type('text/yaml; charset=utf-8').header('Cache-Control', 'no-store').send(found.yaml);
    }
    reply.header('Cache-Control', 'no-store');
    try {
      const found = await load();
      return reply.view('/partials/object-yaml', { href, ...found, readAt: timeView(Date.now(), Date.now()) });
    } catch (err) {
      // Said inside the tab, where the person looked for the YAML; 5xx details stay in the log.
      const { status, body } = describeError(err);
      if (status >= 500) request.log.error({ err }, 'reading the YAML failed');
      return reply.code(status).view('/partials/object-yaml', { href, error: body.error });
    }
  }

  app.get<{ Params: Params }>('/pools/:namespace/:name/yaml', { schema: { summary: 'A DevicePool as YAML', params: pathParams('namespace', 'name') } }, async (request, reply) => {
    const { namespace, name } = request.params;
    return answer(request, reply, `${poolHref(namespace, name)}/yaml`, () => read('pools', 'DevicePool', namespace, name));
  });

  app.get<{ Params: Params & { device: string } }>('/pools/:namespace/:name/devices/:device/yaml', { schema: { summary: "A device's status entry as YAML", params: pathParams('namespace', 'name', 'device') } }, async (request, reply) => {
    const { namespace, name, device } = request.params;
    return answer(request, reply, `${deviceHref(namespace, name, device)}/yaml`, () => readDevice(namespace, name, device));
  });

  app.get<{ Params: Params }>('/sessions/:namespace/:name/yaml', { schema: { summary: 'A TestSession as YAML', params: pathParams('namespace', 'name') } }, async (request, reply) => {
    const { namespace, name } = request.params;
    return answer(request, reply, `${sessionHref(namespace, name)}/yaml`, () => read('sessions', 'TestSession', namespace, name));
  });
}
