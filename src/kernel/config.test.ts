/**
 * Goal: configuration has safe defaults and refuses a bad integer at start, naming the variable.
 * Method: loadConfig on literal environments; process.env is never read.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  test('defaults', () => {
    const config = loadConfig({});
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.databasePoolSize, 10);
    assert.equal(config.redisUrl, undefined);
    assert.equal(config.dataDir, '.qianbao');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 3000);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.operatorToken, undefined);
    assert.deepEqual(config.ledger, {
      transferAmountMaxMinor: 100_000_000_000n,
      batchLingerMs: 1,
      batchSizeMax: 2000,
      expirySweepIntervalMs: 1000,
    });
  });

  test('an empty variable means unset', () => {
    const config = loadConfig({ DATABASE_URL: '', PORT: '', QIANBAO_DATA_DIR: '' });
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.port, 3000);
    assert.equal(config.dataDir, '.qianbao');
  });

  test('values are read from the given environment', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://db/qianbao',
      QIANBAO_DATA_DIR: '/var/lib/qianbao',
      PORT: '8080',
      QIANBAO_TRANSFER_MAX_MINOR: '500',
      QIANBAO_BATCH_LINGER_MS: '0',
      QIANBAO_BATCH_SIZE_MAX: '10000',
      DATABASE_POOL_SIZE: '40',
    });
    assert.equal(config.databaseUrl, 'postgres://db/qianbao');
    assert.equal(config.databasePoolSize, 40);
    assert.equal(config.dataDir, '/var/lib/qianbao');
    assert.equal(config.port, 8080);
    assert.equal(config.ledger.transferAmountMaxMinor, 500n);
    assert.equal(config.ledger.batchLingerMs, 0);
    assert.equal(config.ledger.batchSizeMax, 10_000);
  });

  test('bad integers are refused with the variable name', () => {
    const cases: [string, string][] = [
      ['PORT', 'abc'],
      ['PORT', '70000'],
      ['PORT', '-1'],
      ['PORT', '80.5'],
      ['QIANBAO_BATCH_SIZE_MAX', '0'],
      ['QIANBAO_BATCH_SIZE_MAX', '10001'],
      ['QIANBAO_BATCH_LINGER_MS', '101'],
      ['DATABASE_POOL_SIZE', '0'],
      ['QIANBAO_EXPIRY_SWEEP_MS', '5'],
      ['QIANBAO_TRANSFER_MAX_MINOR', '0'],
      ['QIANBAO_TRANSFER_MAX_MINOR', '1e20'],
    ];
    for (const [name, value] of cases) {
      assert.throws(
        () => loadConfig({ [name]: value }),
        new RegExp(`^Error: ${name} must be an integer`),
        `${name}=${value}`,
      );
      assert.throws(
        () => loadConfig({ [name]: value }),
        (error: unknown) => error instanceof Error && error.message.includes(`"${value}"`),
      );
    }
  });
});
