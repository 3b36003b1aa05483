import {expect} from '@loopback/testlab';
import {CommandLedger} from '../../services';
import {CommandRunStore} from '../../sql';
import {FakeTransactions} from '../fixtures/fake-transactions';

/** A ledger table in memory: a claim succeeds once per work item. */
class MemoryCommandRuns implements CommandRunStore {
  readonly claimed = new Set<string>();
  async claim(externalTaskId: string): Promise<boolean> {
    if (this.claimed.has(externalTaskId)) return false;
    this.claimed.add(externalTaskId);
    return true;
  }
  async release(externalTaskId: string): Promise<void> {
    this.claimed.delete(externalTaskId);
  }
}

describe('CommandLedger (unit)', () => {
  let runs: MemoryCommandRuns;
  let transactions: FakeTransactions;
  let ledger: CommandLedger;

  beforeEach(() => {
    runs = new MemoryCommandRuns();
    transactions = new FakeTransactions();
    ledger = new CommandLedger(runs, transactions);
  });

  it('does the work of a work item once, in the transaction of its claim', async () => {
    const seen: unknown[] = [];
    const work = async (options: object) => {
      seen.push(options);
      return 'done';
    };
    expect(await ledger.once('ext-1', 'create-tasks', work)).to.equal('done');
    expect(await ledger.once('ext-1', 'create-tasks', work)).to.be.undefined();
    expect(seen).to.eql([{transaction: 'fake'}]);
    expect(transactions.outcomes).to.eql(['committed', 'committed']);
  });

  it('rolls back a failed run, cleans up after it and lets the error through', async () => {
    const cleaned: string[] = [];
    await expect(
      ledger.once(
        'ext-2',
        'create-tasks',
        async () => {
          throw new Error('engine down');
        },
        async () => {
          cleaned.push('instances deleted');
        },
      ),
    ).to.be.rejectedWith('engine down');
    expect(transactions.outcomes).to.eql(['rolled back']);
    expect(cleaned).to.eql(['instances deleted']);
  });

  it('refuses a work item without an id', async () => {
    await expect(
      ledger.once('', 'end-task', async () => 'never'),
    ).to.be.rejectedWith(/end-task: the external task has no id/);
  });

  it('does the work again once a claim is released (its work was undone)', async () => {
    let runsOfWork = 0;
    const work = async () => ++runsOfWork;
    await ledger.once('item-9', 'create-tasks', work);
    await ledger.release('item-9', {transaction: 'fake'});
    expect(await ledger.once('item-9', 'create-tasks', work)).to.equal(2);
    expect(await ledger.once('item-9', 'create-tasks', work)).to.be.undefined();
  });
});
