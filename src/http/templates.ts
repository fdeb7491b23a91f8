// The Eta engine for pages and fragments. Caching follows production mode (STACK-NOTES).
// Every page and fragment names its templates by absolute path ('/partials/device-tile'),
// and Eta resolves that path on every include: a JSON key, a path join and a check that it
// stays in views/. A 1,000-device grid includes its tile 1,000 times, so the resolved path
// is remembered per name (the mapping of a name to a file never changes while running).
import { Eta } from 'eta';

export function createTemplates(views: string, production: boolean): Eta {
  const eta = new Eta({ views, cache: production, autoEscape: true, autoTrim: [false, 'nl'] });
  const resolve = eta.resolvePath;
  const resolved = new Map<string, string>();
  eta.resolvePath = function (template, options) {
    if (!template.startsWith('/')) return resolve.call(this, template, options);
    let path = resolved.get(template);
    if (path === undefined) resolved.set(template, (path = resolve.call(this, template, options)));
    return path;
  };
  return eta;
}
