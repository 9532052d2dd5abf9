import { useCallback, useEffect, useState } from 'react';
import { api, errorMessage } from './api.ts';

/** GETs `path` on mount and on `reload()`: the data (`initial` until then), or the error the last attempt met. */
export function useLoad<T>(path: string, initial: T | null = null): { readonly data: T | null; readonly error: string | null; readonly reload: () => Promise<void> } {
  const [data, setData] = useState<T | null>(initial);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setData(await api<T>('GET', path));
      setError(null);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }, [path]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, reload };
}
