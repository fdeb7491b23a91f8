// Every failure talking to a cluster becomes a ClusterError with the HTTP status the
// Kubernetes API uses. This is the one place that maps those statuses to codes and to
// messages an operator can act on.

export type ClusterErrorCode =
  | 'DF_ERR_KUBE_BAD_REQUEST'
  | 'DF_ERR_KUBE_UNAUTHORIZED'
  | 'DF_ERR_KUBE_FORBIDDEN'
  | 'DF_ERR_KUBE_NOT_FOUND'
  | 'DF_ERR_KUBE_CONFLICT'
  | 'DF_ERR_KUBE_GONE'
  | 'DF_ERR_KUBE_INVALID'
  | 'DF_ERR_KUBE_TOO_MANY_REQUESTS'
  | 'DF_ERR_KUBE_UNAVAILABLE'
  | 'DF_ERR_KUBE_INTERNAL';

export interface FieldCause {
  field: string;
  message: string;
}

/** A Kubernetes `Status` object as the API returns it on failure. */
export interface KubeStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { causes?: Array<{ field?: string; message?: string; reason?: string }> };
}

export class ClusterError extends Error {
  readonly code: ClusterErrorCode;
  readonly status: number;
  readonly reason: string;
  readonly causes: FieldCause[];

  constructor(status: number, reason: string, message: string, causes: FieldCause[] = []) {
    super(message);
    this.name = 'ClusterError';
    this.status = status;
    this.reason = reason;
    this.code = codeFor(status);
    this.causes = causes;
  }

  static fromStatus(httpStatus: number, body: KubeStatus | undefined, fallback: string): ClusterError {
    const causes = (body?.details?.causes ?? []).map((c) => ({ field: c.field ?? '', message: c.message ?? c.reason ?? '' }));
    return new ClusterError(body?.code ?? httpStatus, body?.reason ?? '', body?.message || fallback, causes);
  }

  /** The cluster could not be reached at all (connection refused, TLS, DNS, timeout). */
  static unreachable(server: string, err: unknown): ClusterError {
    const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    return new ClusterError(503, 'ServiceUnavailable', `cannot reach the Kubernetes API at ${server}: ${cause}`);
  }

  /** What the dashboard tells a person, with a hint for the statuses that have one. */
  explain(action: string): string {
    switch (this.status) {
      case 401:
        return `The Kubernetes API did not accept the dashboard's credentials while trying to ${action}: check the kubeconfig or service-account token. (${this.message})`;
      case 403:
        return `Not allowed to ${action}: the dashboard's RBAC role lacks this permission. Ask a cluster admin to grant it. (${this.message})`;
      case 404:
        return `Could not ${action}: it does not exist (any more). (${this.message})`;
      case 409:
        return `Could not ${action}: it was changed or created by someone else meanwhile; reload and try again. (${this.message})`;
      case 422:
        return `The Kubernetes API rejected the request to ${action}: ${this.message}`;
      default:
        return `Could not ${action}: ${this.message}`;
    }
  }
}

function codeFor(status: number): ClusterErrorCode {
  switch (status) {
    case 400:
      return 'DF_ERR_KUBE_BAD_REQUEST';
    case 401:
      return 'DF_ERR_KUBE_UNAUTHORIZED';
    case 403:
      return 'DF_ERR_KUBE_FORBIDDEN';
    case 404:
      return 'DF_ERR_KUBE_NOT_FOUND';
    case 409:
      return 'DF_ERR_KUBE_CONFLICT';
    case 410:
      return 'DF_ERR_KUBE_GONE';
    case 422:
      return 'DF_ERR_KUBE_INVALID';
    case 429:
      return 'DF_ERR_KUBE_TOO_MANY_REQUESTS';
    case 503:
      return 'DF_ERR_KUBE_UNAVAILABLE';
    default:
      return 'DF_ERR_KUBE_INTERNAL';
  }
}
