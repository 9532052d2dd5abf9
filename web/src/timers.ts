import { useEffect, useState } from 'react';

/**
 * The wall clock, read again every `intervalMs` while the component is shown: for countdowns and
 * for pages that change with the time (a rain that starts and ends).
 */
export function useNow(intervalMs: number): number {
  const [nowMs, setNowMs] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => {
      setNowMs(Date.now());
    }, intervalMs);
    return () => {
      window.clearInterval(timer);
    };
  }, [intervalMs]);
  return nowMs;
}

/**
 * Calls `load` every `everyMs` while `isActive`, at most `countMax` times: for what the server
 * finishes a moment later (a share or a prize reaching the wallet), looked at again for a while,
 * never forever; the page says meanwhile that it is on its way.
 */
export function useBoundedPoll(isActive: boolean, load: () => Promise<void>, options: { readonly everyMs: number; readonly countMax: number }): void {
  const { everyMs, countMax } = options;
  useEffect(() => {
    if (!isActive) return;
    let polls = 0;
    const timer = window.setInterval(() => {
      polls += 1;
      if (polls >= countMax) window.clearInterval(timer);
      void load();
    }, everyMs);
    return () => {
      window.clearInterval(timer);
    };
  }, [isActive, load, everyMs, countMax]);
}
