import { describe, expect, it } from '@jest/globals';
import { formatStatusLine, statusSeconds } from './status-lines.js';

describe('npm start’s status lines', () => {
  it('print every 30 s on a terminal only, unless STOCKMESH_STATUS_SECONDS says otherwise', () => {
    expect(statusSeconds({}, true)).toBe(30);
    expect(statusSeconds({}, false)).toBe(0);
    expect(statusSeconds({ STOCKMESH_STATUS_SECONDS: 'off' }, true)).toBe(0);
    expect(statusSeconds({ STOCKMESH_STATUS_SECONDS: '0' }, true)).toBe(0);
    expect(statusSeconds({ STOCKMESH_STATUS_SECONDS: '10' }, false)).toBe(10);
    for (const bad of ['4', '3601', 'soon', '-5', '1.5'])
      expect(() => statusSeconds({ STOCKMESH_STATUS_SECONDS: bad }, true)).toThrow(/STOCKMESH_STATUS_SECONDS must be/);
  });

  it('say health, lag per region, outbox and dead letters in one line, or that the region does not answer', () => {
    const lag = [
      { region: 'eu-west', lagMs: 12, stale: false },
      { region: 'ap-south', lagMs: 0, stale: true },
    ];
    expect(formatStatusLine({ id: 'us-east', ready: true, lag, outboxPending: 0, deadLetters: 2 }, 8)).toBe(
      'us-east   ready  lag eu-west 12 ms, ap-south stale  outbox 0  dead letters 2',
    );
    expect(formatStatusLine({ id: 'eu-west', ready: false, lag: [], outboxPending: null, deadLetters: 0 })).toBe(
      'eu-west  not ready  lag -  outbox ?  dead letters 0',
    );
    expect(formatStatusLine({ id: 'ap-south', error: 'fetch failed' })).toBe('ap-south  not answering (fetch failed)');
  });
});
