// Event ids of both live streams: `<boot>-<seq>`. The boot part is random per process, so an
// id from before a restart (or from another replica behind the same Service) never matches
// and the client gets a snapshot or a reset instead of a wrong replay.
import { randomBytes } from 'node:crypto';

/** A fresh boot id for one stream of one process. */
export function newBootId(): string {
  return randomBytes(4).toString('hex');
}

export function eventId(bootId: string, seq: number): string {
  return `${bootId}-${seq}`;
}

/** The sequence number of a Last-Event-ID this stream issued, or undefined for any other. */
export function seqOfEventId(lastEventId: string | undefined, bootId: string): number | undefined {
  const match = lastEventId?.match(/^([0-9a-f]+)-(\d+)$/);
  return match && match[1] === bootId ? Number(match[2]) : undefined;
}
