/** Time is injected: domain code never calls Date.now(), so tests can move it. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
  now(): Date;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  now: () => new Date(),
};

/** A clock that moves only when told to; for tests and simulations. */
export class FakeClock implements Clock {
  private currentMs: number;
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.currentMs = startMs;
  }
  nowMs(): number {
    return this.currentMs;
  }
  now(): Date {
    return new Date(this.currentMs);
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('a clock only moves forward');
    this.currentMs += ms;
  }
  set(ms: number): void {
    if (ms < this.currentMs) throw new RangeError('a clock only moves forward');
    this.currentMs = ms;
  }
}
