import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { RepeatingTask } from './repeating-task.js';

describe('RepeatingTask', () => {
  beforeEach(() => void jest.useFakeTimers());
  afterEach(() => void jest.useRealTimers());

  it('runs a pass each interval after the last one ended, goes on after a failure, and stops', async () => {
    const errors: string[] = [];
    let passes = 0;
    const task = new RepeatingTask(
      async () => {
        passes++;
        if (passes === 2) throw new Error('boom');
      },
      100,
      (error) => errors.push(error.message),
    );
    task.start();
    expect(passes).toBe(0);
    await jest.advanceTimersByTimeAsync(100);
    expect(passes).toBe(1);
    await jest.advanceTimersByTimeAsync(200);
    expect(passes).toBe(3);
    expect(errors).toEqual(['boom']);
    await task.stop();
    expect(task.isStopped).toBe(true);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(passes).toBe(3);
  });

  it('waits on stop for the pass that is running', async () => {
    let finish!: () => void;
    let finished = false;
    const task = new RepeatingTask(
      () => new Promise<void>((resolve) => (finish = resolve)).then(() => void (finished = true)),
      10,
      () => undefined,
    );
    task.start();
    await jest.advanceTimersByTimeAsync(10);
    const stopping = task.stop();
    finish();
    await stopping;
    expect(finished).toBe(true);
  });
});
