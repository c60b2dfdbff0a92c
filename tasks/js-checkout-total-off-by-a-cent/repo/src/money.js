'use strict';

/** Integer cents for a price given in currency units, e.g. 12.5 -> 1250. */
function toCents(amount) {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) {
    throw new TypeError(`not a price: ${amount}`);
  }
  return Math.floor(amount * 100);
}

/** '€12.50' style text for a number of cents. */
function formatCents(cents, symbol = '€') {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const units = Math.floor(abs / 100);
  const rest = String(abs % 100).padStart(2, '0');
  return `${sign}${symbol}${units}.${rest}`;
}

/** Split cents into n parts that differ by at most one cent and add up exactly. */
function splitCents(cents, n) {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError('n must be a positive integer');
  const base = Math.floor(cents / n);
  const extra = cents - base * n;
  return Array.from({ length: n }, (_, i) => base + (i < extra ? 1 : 0));
}

module.exports = { toCents, formatCents, splitCents };
