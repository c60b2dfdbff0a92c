'use strict';

const { slugify } = require('./slugify');
const { uniqueSlug } = require('./unique');

module.exports = { slugify, uniqueSlug };
