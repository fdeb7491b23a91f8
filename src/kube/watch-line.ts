// One line of a watch response (newline-delimited JSON) as a WatchEvent. A line that is
// not one (truncated JSON, no object, an unknown type) is a WatchLineError: it ends the
// watch, which the informer resumes from the last event read whole.
import type { KubeStatus } from './errors.js';
import type { KubeObject, WatchEvent } from './types.js';

/** A watch stream line that is not a watch event (truncated JSON, an unknown type). */
export class WatchLineError extends Error {
  constructor(reason: string, line: string) {
    super(`unreadable watch line (${reason}): ${line.length > 200 ? `${line.slice(0, 200)}…` : line}`);
    this.name = 'WatchLineError';
  }
}

/** One line of a watch response as an event; throws WatchLineError when it is not one. */
export function decodeWatchLine(line: string): WatchEvent {
  let data: { type?: unknown; object?: unknown };
  try {
    data = JSON.parse(line);
  } catch {
    throw new WatchLineError('not JSON', line);
  }
  const object = data !== null && typeof data === 'object' && data.object !== null && typeof data.object === 'object' ? (data.object as Record<string, unknown>) : undefined;
  if (!object) throw new WatchLineError('no object', line);
  switch (data.type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
      return { type: data.type, object: object as unknown as KubeObject };
    case 'BOOKMARK':
      return { type: 'BOOKMARK', resourceVersion: String((object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion ?? '') };
    case 'ERROR': {
      const status = object as KubeStatus;
      return { type: 'ERROR', code: status.code ?? 500, reason: status.reason ?? '', message: status.message ?? 'watch error' };
    }
    default:
      throw new WatchLineError(`unknown event type ${JSON.stringify(data.type)}`, line);
  }
}
