import { useState } from 'react';
import { errorMessage } from '../api.ts';

/**
 * A payment that needs the PIN: the form collects the details, the PIN pad collects the PIN, and
 * `submit(pin)` sends both. Errors are the server's problem details, shown as they are unless
 * `describe` words them for the page.
 */
export function usePinPayment(send: (pin: string) => Promise<void>, describe: (caught: unknown) => string = errorMessage) {
  const [askingPin, setAskingPin] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  return {
    askingPin,
    error,
    done,
    setError,
    ask: () => {
      setError(null);
      setAskingPin(true);
    },
    cancel: () => {
      setAskingPin(false);
    },
    submit: async (pin: string) => {
      setAskingPin(false);
      try {
        await send(pin);
        setDone(true);
      } catch (caught) {
        setError(describe(caught));
      }
    },
  };
}
