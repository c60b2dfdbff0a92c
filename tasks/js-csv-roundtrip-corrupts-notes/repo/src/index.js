'use strict';

module.exports = { ...require('./parse'), ...require('./stringify'), ...require('./records') };
