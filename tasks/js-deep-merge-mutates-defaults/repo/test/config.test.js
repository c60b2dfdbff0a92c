'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { loadConfig } = require('../lib/config');

describe('loadConfig', () => {
  it('applies overrides', () => {
    const config = loadConfig({ server: { port: 9000 } });
    assert.equal(config.server.port, 9000);
    assert.equal(config.server.host, '127.0.0.1');
  });

  it('does not carry overrides into later calls', () => {
    loadConfig({ server: { port: 9999 }, log: { level: 'debug' } });
    const config = loadConfig();
    assert.equal(config.server.port, 8080);
    assert.equal(config.log.level, 'info');
  });

  it('returns a config that can be changed safely', () => {
    loadConfig().log.targets.push('file');
    assert.deepEqual(loadConfig().log.targets, ['stdout']);
  });
});
