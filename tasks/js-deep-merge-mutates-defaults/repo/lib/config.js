'use strict';

const { deepMerge } = require('./merge');

const DEFAULTS = {
  server: { host: '127.0.0.1', port: 8080 },
  log: { level: 'info', targets: ['stdout'] },
  features: {},
};

/** The effective configuration: DEFAULTS overridden by each layer in turn. */
function loadConfig(...layers) {
  return deepMerge(DEFAULTS, ...layers);
}

module.exports = { DEFAULTS, loadConfig };
