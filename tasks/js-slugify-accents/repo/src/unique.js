'use strict';

const { slugify } = require('./slugify');

/**
 * A slug for title that is not in taken (a Set or array): 'post', 'post-2', 'post-3', ...
 */
function uniqueSlug(title, taken, options = {}) {
  const used = taken instanceof Set ? taken : new Set(taken);
  const base = slugify(title, options) || 'item';
  const sep = options.separator ?? '-';
  let candidate = base;
  for (let n = 2; used.has(candidate); n += 1) {
    candidate = `${base}${sep}${n}`;
  }
  return candidate;
}

module.exports = { uniqueSlug };
