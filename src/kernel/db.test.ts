import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientTarget } from './db.ts';

test('a libpq socket directory in ?host= becomes the client host and leaves the URL', () => {
  const target = clientTarget('postgres://postgres:pw@localhost:5433/app?host=%2Fvar%2Frun%2Fpostgresql&sslmode=disable');
  assert.equal(target.host, '/var/run/postgresql');
  assert.equal(target.url, 'postgres://postgres:pw@localhost:5433/app?sslmode=disable');
});

test('a TCP URL, or a host that is not a path, is left as it is', () => {
  assert.deepEqual(clientTarget('postgres://postgres@127.0.0.1:5432/test'), { url: 'postgres://postgres@127.0.0.1:5432/test' });
  assert.deepEqual(clientTarget('postgres://u@h/db?host=db.internal'), { url: 'postgres://u@h/db?host=db.internal' });
});
