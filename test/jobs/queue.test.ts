import { describe, expect, it } from 'vitest';
import { FairQueue, QueueClosedError } from '../../src/jobs/queue.ts';

/** A task the test finishes by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, task: () => opened };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('FairQueue', () => {
  it('never runs more than the concurrency limit', async () => {
    const q = new FairQueue({ concurrency: 2, perUser: 5 });
    const gates = [gate(), gate(), gate()];
    const done = gates.map((g, i) => q.run({ guildId: 'g', userId: `u${i}` }, g.task));
    await tick();
    expect([q.active, q.depth]).toEqual([2, 1]);
    gates[0]!.open();
    await done[0];
    await tick();
    expect([q.active, q.depth]).toEqual([2, 0]);
    gates[1]!.open();
    gates[2]!.open();
    await Promise.all(done);
    expect([q.active, q.depth]).toEqual([0, 0]);
  });

  it('serves guilds round-robin so a busy guild cannot starve a quiet one', async () => {
    const q = new FairQueue({ concurrency: 1, perUser: 10 });
    const order: string[] = [];
    const first = gate();
    const blocker = q.run({ guildId: 'busy', userId: 'x' }, first.task);
    const jobs: Array<Promise<unknown>> = [];
    for (let i = 0; i < 4; i++) jobs.push(q.run({ guildId: 'busy', userId: `b${i}` }, async () => void order.push(`busy${i}`)));
    jobs.push(q.run({ guildId: 'quiet', userId: 'q' }, async () => void order.push('quiet0')));
    jobs.push(q.run({ guildId: 'other', userId: 'o' }, async () => void order.push('other0')));
    first.open();
    await blocker;
    await Promise.all(jobs);
    expect(order).toEqual(['quiet0', 'other0', 'busy0', 'busy1', 'busy2', 'busy3']);
  });

  it('holds a second job of the same user until the first finishes, letting others pass', async () => {
    const q = new FairQueue({ concurrency: 2, perUser: 1 });
    const order: string[] = [];
    const a1 = gate();
    const first = q.run({ guildId: 'g', userId: 'ana' }, async () => {
      order.push('ana1');
      await a1.task();
    });
    const second = q.run({ guildId: 'g', userId: 'ana' }, async () => void order.push('ana2'));
    const bo = q.run({ guildId: 'g', userId: 'bo' }, async () => void order.push('bo'));
    await bo;
    expect(order).toEqual(['ana1', 'bo']);
    a1.open();
    await Promise.all([first, second]);
    expect(order).toEqual(['ana1', 'bo', 'ana2']);
  });

  it('reports places in line as they change', async () => {
    const q = new FairQueue({ concurrency: 1, perUser: 1 });
    const g = gate();
    const running = q.run({ guildId: 'g', userId: 'a' }, g.task);
    const places: number[] = [];
    const waiting1 = q.run({ guildId: 'g', userId: 'b' }, async () => undefined);
    const waiting2 = q.run(
      { guildId: 'g', userId: 'c' },
      async () => undefined,
      (p) => places.push(p),
    );
    expect(places).toEqual([2]);
    g.open();
    await Promise.all([running, waiting1, waiting2]);
    expect(places).toEqual([2, 1]);
  });

  it('passes failures to the caller and keeps going', async () => {
    const q = new FairQueue({ concurrency: 1, perUser: 1 });
    await expect(q.run({ guildId: 'g', userId: 'a' }, async () => Promise.reject(new Error('model down')))).rejects.toThrow('model down');
    await expect(q.run({ guildId: 'g', userId: 'a' }, async () => 42)).resolves.toBe(42);
  });

  it('refuses new jobs after close and waits for running ones', async () => {
    const q = new FairQueue({ concurrency: 1, perUser: 1 });
    const g = gate();
    let finished = false;
    const running = q.run({ guildId: 'g', userId: 'a' }, async () => {
      await g.task();
      finished = true;
    });
    let started = false;
    const waiting = q.run({ guildId: 'g', userId: 'b' }, async () => void (started = true));
    const closing = q.close({ dropWaiting: true });
    await expect(waiting).rejects.toBeInstanceOf(QueueClosedError);
    await expect(q.run({ guildId: 'g', userId: 'c' }, async () => 1)).rejects.toBeInstanceOf(QueueClosedError);
    g.open();
    await closing;
    await running;
    expect([finished, started]).toEqual([true, false]);
  });
});
