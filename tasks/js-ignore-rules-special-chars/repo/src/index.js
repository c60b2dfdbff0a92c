'use strict';

module.exports = { ...require('./glob'), ...require('./ignore') };
