/**
 * Background work done in passes, one at a time: `kick()` starts a pass, or asks the running one
 * to go round again when it ends; a pass that did work (answered more than 0) goes round again by
 * itself. `runNow()` waits for a pass in flight, then runs passes until one finds nothing to do.
 * A pass that throws is reported and ends the round; the next kick retries.
 */
export class Passes {
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly pass: () => Promise<number>,
    private readonly onError: (error: unknown) => void,
  ) {}

  kick(): void {
    if (this.closed) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.round().finally(() => {
      this.running = undefined;
    });
  }

  private async round(): Promise<void> {
    do {
      this.again = false;
      try {
        if ((await this.pass()) > 0) this.again = true;
      } catch (error) {
        this.onError(error);
        return;
      }
    } while (this.again && !this.closed);
  }

  async runNow(): Promise<number> {
    await this.running;
    let total = 0;
    for (let done = await this.pass(); done > 0; done = await this.pass()) total += done;
    return total;
  }

  /** No new pass starts; the one in flight is awaited. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
  }
}
