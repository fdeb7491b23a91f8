// The two questions the dashboard asks the apiserver about people: who a bearer token
// belongs to (TokenReview) and whether someone may do something (SubjectAccessReview).
// Both are create-only "virtual" resources: nothing is stored. Bodies and answers here,
// the HTTP in the Cluster implementation.
import type { AccessDecision, AccessQuestion, Subject, TokenOwner } from './types.js';

export const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
export const ACCESS_REVIEW_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

export function tokenReviewBody(token: string): Record<string, unknown> {
  return { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } };
}

export function tokenOwner(review: unknown): TokenOwner {
  const status = (review as { status?: { authenticated?: boolean; user?: { username?: string; groups?: string[] }; error?: string } } | undefined)?.status;
  if (!status?.authenticated || !status.user?.username) return { authenticated: false, error: status?.error || 'the token is not valid (forged, expired or revoked)' };
  return { authenticated: true, user: status.user.username, groups: [...(status.user.groups ?? [])] };
}

export function accessReviewBody(subject: Subject, q: AccessQuestion): Record<string, unknown> {
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: subject.user,
      groups: [...subject.groups],
      resourceAttributes: { verb: q.verb, group: q.group, resource: q.resource, ...(q.namespace ? { namespace: q.namespace } : {}) },
    },
  };
}

export function accessDecision(review: unknown): AccessDecision {
  const status = (review as { status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string } } | undefined)?.status;
  return { allowed: status?.allowed === true && status.denied !== true, reason: status?.reason || status?.evaluationError || '' };
}
