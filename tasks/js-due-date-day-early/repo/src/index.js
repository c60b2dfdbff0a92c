'use strict';

module.exports = { ...require('./days'), ...require('./terms') };
