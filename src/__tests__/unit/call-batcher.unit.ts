import {expect} from '@loopback/testlab';
import {CallBatcher} from '../../utils';

/** A run that finishes when the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>(resolve => (open = resolve));
  return {opened, open};
}

describe('CallBatcher (unit)', () => {
  it('runs a call alone at once, and the calls that came meanwhile together', async () => {
    const runs: string[][] = [];
    const first = gate();
    const batcher = new CallBatcher<string, string>(
      async inputs => {
        runs.push(inputs);
        return inputs.map(i => i.toUpperCase());
      },
      async input => {
        runs.push([input]);
        if (input === 'a') await first.opened;
        return input.toUpperCase();
      },
      {maxInFlight: 1},
    );
    const a = batcher.call('a');
    const rest = ['b', 'c', 'd'].map(i => batcher.call(i));
    expect(runs).to.eql([['a']]);
    first.open();
    expect(await Promise.all([a, ...rest])).to.eql(['A', 'B', 'C', 'D']);
    expect(runs).to.eql([['a'], ['b', 'c', 'd']]);
  });

  it('a failed batch runs each call alone: only the bad one fails', async () => {
    const first = gate();
    const batcher = new CallBatcher<number, number>(
      async () => {
        throw new Error('one bad row fails the statement');
      },
      async n => {
        if (n === 0) await first.opened;
        if (n === 2) throw new Error('bad row');
        return n * 10;
      },
      {maxInFlight: 1},
    );
    const calls = [0, 1, 2, 3].map(n =>
      batcher.call(n).then(
        v => ({v}),
        (err: Error) => ({err: err.message}),
      ),
    );
    first.open();
    expect(await Promise.all(calls)).to.eql([
      {v: 0},
      {v: 10},
      {err: 'bad row'},
      {v: 30},
    ]);
  });

  it('keeps at most maxInFlight runs and maxBatch calls in one', async () => {
    let running = 0;
    let most = 0;
    const sizes: number[] = [];
    const run = async (inputs: number[]) => {
      running++;
      most = Math.max(most, running);
      sizes.push(inputs.length);
      await new Promise(r => setTimeout(r, 5));
      running--;
      return inputs;
    };
    const batcher = new CallBatcher<number, number>(
      run,
      async n => (await run([n]))[0],
      {maxInFlight: 2, maxBatch: 10},
    );
    const out = await Promise.all(
      Array.from({length: 45}, (_, i) => batcher.call(i)),
    );
    expect(out).to.eql(Array.from({length: 45}, (_, i) => i));
    expect(most).to.equal(2);
    expect(Math.max(...sizes)).to.equal(10);
    expect(sizes.reduce((a, b) => a + b, 0)).to.equal(45);
  });
});
