// Stop, Retry and Delete per phase: the one rule the writer refuses by and the session page
// draws its buttons from. The table is written out in full, so a change to the rule is a
// change to this table, and the page's buttons are checked against the same rule.
import { describe, expect, it } from 'vitest';
import { canDelete, canRetry, canStop, SESSION_ACTIONS, sessionActionRules, type SessionAction } from '../../src/farm/session-actions.js';
import { FarmStore } from '../../src/farm/store.js';
import { SESSION_PHASES, type SessionPhase } from '../../src/farm/types.js';
import { toSessionView } from '../../src/kube/slim.js';
import { sessionDetailData } from '../../src/view/session-detail.js';

type Row = { stop: string; retry: string; delete: string };
// allowed | refused:<code> | nothing (allowed no, refused no: a repeated Stop writes nothing)
const TABLE: Record<SessionPhase, { fresh: Row; stopRequested: Row }> = {
  Pending: { fresh: { stop: 'allowed', retry: 'refused:DF_ERR_SESSION_NOT_FINISHED', delete: 'refused:DF_ERR_SESSION_NOT_FINISHED' }, stopRequested: { stop: 'nothing', retry: 'refused:DF_ERR_SESSION_NOT_FINISHED', delete: 'refused:DF_ERR_SESSION_NOT_FINISHED' } },
  Assigned: { fresh: { stop: 'allowed', retry: 'refused:DF_ERR_SESSION_NOT_FINISHED', delete: 'refused:DF_ERR_SESSION_NOT_FINISHED' }, stopRequested: { stop: 'nothing', retry: 'refused:DF_ERR_SESSION_NOT_FINISHED', delete: 'refused:DF_ERR_SESSION_NOT_FINISHED' } },
  Running: { fresh: { stop: 'allowed', retry: 'refused:DF_ERR_SESSION_NOT_FINISHED', delete: 'refused:DF_ERR_SESSION_NOT_FINISHED' }, stopRequested: { stop: 'nothing', retry: 'refused:DF_ERR_SESSION_NOT_FINISHED', delete: 'refused:DF_ERR_SESSION_NOT_FINISHED' } },
  Succeeded: { fresh: { stop: 'refused:DF_ERR_SESSION_FINISHED', retry: 'allowed', delete: 'allowed' }, stopRequested: { stop: 'refused:DF_ERR_SESSION_FINISHED', retry: 'allowed', delete: 'allowed' } },
  Failed: { fresh: { stop: 'refused:DF_ERR_SESSION_FINISHED', retry: 'allowed', delete: 'allowed' }, stopRequested: { stop: 'refused:DF_ERR_SESSION_FINISHED', retry: 'allowed', delete: 'allowed' } },
  Cancelled: { fresh: { stop: 'refused:DF_ERR_SESSION_FINISHED', retry: 'allowed', delete: 'allowed' }, stopRequested: { stop: 'refused:DF_ERR_SESSION_FINISHED', retry: 'allowed', delete: 'allowed' } },
  TimedOut: { fresh: { stop: 'refused:DF_ERR_SESSION_FINISHED', retry: 'allowed', delete: 'allowed' }, stopRequested: { stop: 'refused:DF_ERR_SESSION_FINISHED', retry: 'allowed', delete: 'allowed' } },
};

const outcome = (action: SessionAction, phase: SessionPhase, cancelRequested: boolean): string => {
  const v = sessionActionRules[action]({ name: 's', phase, cancelRequested });
  return v.allowed ? 'allowed' : v.refusal ? `refused:${v.refusal.code}` : 'nothing';
};

describe('the session action rule', () => {
  it('covers every phase', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...SESSION_PHASES].sort());
  });

  for (const phase of SESSION_PHASES) {
    for (const cancelRequested of [false, true]) {
      it(`${phase}${cancelRequested ? ', stop requested' : ''}`, () => {
        const row = TABLE[phase][cancelRequested ? 'stopRequested' : 'fresh'];
        for (const action of SESSION_ACTIONS) expect(outcome(action, phase, cancelRequested), action).toBe(row[action]);
      });
    }
  }

  it('says why in the words the action answers with', () => {
    const refusal = (v: ReturnType<typeof canStop>) => (v.allowed ? undefined : v.refusal?.message);
    expect(refusal(canStop({ name: 'smoke-1', phase: 'Failed', cancelRequested: false }))).toBe('TestSession smoke-1 already ended (Failed): there is nothing to stop.');
    expect(refusal(canRetry({ name: 'smoke-1', phase: 'Running', cancelRequested: false }))).toBe('TestSession smoke-1 is still Running: retry it once it has ended, or stop it first.');
    expect(refusal(canDelete({ name: 'smoke-1', phase: 'Pending', cancelRequested: false }))).toBe('TestSession smoke-1 is still Pending: stop it and wait until it has ended before deleting it.');
  });
});

describe('the session page offers what the rule allows', () => {
  for (const phase of SESSION_PHASES) {
    for (const cancelRequested of [false, true]) {
      it(`${phase}${cancelRequested ? ', stop requested' : ''}`, () => {
        const store = new FarmStore();
        store.applySession(
          'added',
          toSessionView({
            metadata: { name: 's', namespace: 'ns', uid: 'u', resourceVersion: '1', creationTimestamp: '2026-11-23T10:00:00Z' },
            spec: { poolRef: { name: 'p' }, cancelRequested },
            status: { phase },
          }),
        );
        const detail = sessionDetailData(store, { origins: [], allowHttp: false }, 'ns', 's', Date.parse('2026-11-23T10:05:00Z'));
        const offered = Object.keys(detail.actions as object).sort();
        const allowed = SESSION_ACTIONS.filter((a) => sessionActionRules[a]({ name: 's', phase, cancelRequested }).allowed).sort();
        expect(offered).toEqual(allowed);
        expect(detail.stopRequested).toBe(cancelRequested && !['Succeeded', 'Failed', 'Cancelled', 'TimedOut'].includes(phase));
      });
    }
  }
});
