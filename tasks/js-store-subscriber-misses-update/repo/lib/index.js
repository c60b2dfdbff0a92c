'use strict';

module.exports = { ...require('./emitter'), ...require('./store') };
