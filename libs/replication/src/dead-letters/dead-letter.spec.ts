import { describe, expect, it } from '@jest/globals';
import { PoisonEventError } from '@stockmesh/contracts';
import { refusalReason } from './dead-letter.js';

const pgError = (code: string, message = 'boom'): Error => Object.assign(new Error(message), { code });
const typeormError = (code: string): Error => Object.assign(new Error('query failed'), { driverError: { code } });

describe('refusalReason', () => {
  it.each(['22P02', '22003', '22008', '22021', '23505', '23514', '23502'])('refuses data the database refuses (%s)', (code) => {
    expect(refusalReason(pgError(code))).toMatch(new RegExp(`SQLSTATE ${code}`));
    expect(refusalReason(typeormError(code))).toMatch(new RegExp(`SQLSTATE ${code}`));
  });

  it.each(['40P01', '40001', '53300', '57P01', '08006', '42P01'])('retries what may pass later (%s)', (code) => {
    expect(refusalReason(pgError(code))).toBeUndefined();
  });

  it('retries errors without a SQLSTATE (e.g. a lost connection)', () => {
    expect(refusalReason(new Error('Connection terminated unexpectedly'))).toBeUndefined();
    expect(refusalReason(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  });

  it('refuses an event an applier found contradictory, with its reason', () => {
    expect(refusalReason(new PoisonEventError('warehouse fra-1 belongs to eu-west'))).toBe('warehouse fra-1 belongs to eu-west');
  });
});
