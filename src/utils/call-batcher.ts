interface Call<I, O> {
  input: I;
  resolve(output: O): void;
  reject(err: unknown): void;
}

/**
 * Runs calls of one kind together: a call made while `maxInFlight` runs
 * are under way waits for the next run, which takes every call that
 * waited (up to `maxBatch`) in one `runBatch`. A call alone goes by
 * `runOne` at once, so a quiet service waits for nothing; a busy one sends
 * one statement for many calls instead of one each.
 *
 * If a batch fails, each of its calls is run alone, so one bad input
 * fails only its own call.
 */
export class CallBatcher<I, O> {
  private readonly waiting: Call<I, O>[] = [];
  private inFlight = 0;

  constructor(
    private readonly runBatch: (inputs: I[]) => Promise<O[]>,
    private readonly runOne: (input: I) => Promise<O>,
    private readonly options: {maxBatch?: number; maxInFlight?: number} = {},
  ) {}

  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({input, resolve, reject});
      this.next();
    });
  }

  private next() {
    const {maxBatch = 500, maxInFlight = 2} = this.options;
    if (this.inFlight >= maxInFlight || !this.waiting.length) return;
    const calls = this.waiting.splice(0, maxBatch);
    this.inFlight++;
    // `run` settles every call itself; it never rejects.
    this.run(calls)
      .catch(() => undefined)
      .finally(() => {
        this.inFlight--;
        this.next();
      });
  }

  private async run(calls: Call<I, O>[]): Promise<void> {
    if (calls.length === 1) {
      await settle(calls[0], () => this.runOne(calls[0].input));
      return;
    }
    let outputs: O[];
    try {
      outputs = await this.runBatch(calls.map(c => c.input));
    } catch {
      await Promise.all(calls.map(c => settle(c, () => this.runOne(c.input))));
      return;
    }
    calls.forEach((c, i) => c.resolve(outputs[i]));
  }
}

async function settle<I, O>(
  call: Call<I, O>,
  work: () => Promise<O>,
): Promise<void> {
  try {
    call.resolve(await work());
  } catch (err) {
    call.reject(err);
  }
}
