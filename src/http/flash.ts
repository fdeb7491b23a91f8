// A one-time message carried over a full navigation (Delete answers with HX-Redirect to
// /sessions, a new page): a short-lived SameSite=Strict cookie, read and cleared by the
// page it lands on. It holds what happened (a kind and the object), never text: the page
// words the message, so a cookie set by anything else cannot put words on the page.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDnsLabel, isDnsSubdomain } from '../kube/names.js';

const COOKIE = 'df_flash';

export interface Flash {
  level: 'info' | 'error';
  message: string;
}

/** Remembers that a session was deleted, for the page the browser is sent to next. */
export function flashDeleted(reply: FastifyReply, namespace: string, name: string, path: string): void {
  reply.header('Set-Cookie', `${COOKIE}=${encodeURIComponent(`deleted:${namespace}/${name}`)}; Path=${path}; Max-Age=60; HttpOnly; SameSite=Strict`);
}

/** The flash this request carries, if any, cleared so a reload does not show it again. */
export function takeFlash(request: FastifyRequest, reply: FastifyReply, path: string): Flash | undefined {
  const raw = cookie(request.headers.cookie ?? '', COOKIE);
  if (raw === undefined) return undefined;
  reply.header('Set-Cookie', `${COOKIE}=; Path=${path}; Max-Age=0; HttpOnly; SameSite=Strict`);
  const m = /^deleted:([^/]+)\/(.+)$/.exec(raw);
  if (!m || !isDnsLabel(m[1]!) || !isDnsSubdomain(m[2]!)) return undefined;
  return { level: 'info', message: `Deleted TestSession ${m[2]} from ${m[1]}.` };
}

function cookie(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
