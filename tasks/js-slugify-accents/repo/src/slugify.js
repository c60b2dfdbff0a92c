'use strict';

const DEFAULTS = { separator: '-', maxLength: 80, lowercase: true };

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Turn a title into a URL slug: words joined by the separator, punctuation dropped.
 * @param {string} input
 * @param {{separator?: string, maxLength?: number, lowercase?: boolean}} [options]
 */
function slugify(input, options = {}) {
  const opts = { ...DEFAULTS, ...options };
  const sep = escapeRegExp(opts.separator);
  let text = String(input ?? '').trim();
  if (opts.lowercase) text = text.toLowerCase();
  text = text.replace(/[^a-zA-Z0-9]+/g, opts.separator);
  text = text.replace(new RegExp(`^(${sep})+|(${sep})+$`, 'g'), '');
  if (text.length > opts.maxLength) {
    text = text.slice(0, opts.maxLength).replace(new RegExp(`(${sep})+$`), '');
  }
  return text;
}

module.exports = { slugify };
