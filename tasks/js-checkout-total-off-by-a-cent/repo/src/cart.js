'use strict';

const { toCents, formatCents } = require('./money');

class Cart {
  constructor() {
    this.lines = new Map();
    this.discountPercent = 0;
  }

  /** Add qty of a product; price is in currency units as shown in the shop (e.g. 4.35). */
  add(sku, price, qty = 1) {
    if (!Number.isInteger(qty) || qty <= 0) throw new RangeError('qty must be a positive integer');
    const line = this.lines.get(sku);
    if (line) {
      line.qty += qty;
    } else {
      this.lines.set(sku, { sku, unitCents: toCents(price), qty });
    }
    return this;
  }

  remove(sku) {
    this.lines.delete(sku);
    return this;
  }

  setDiscount(percent) {
    if (percent < 0 || percent > 100) throw new RangeError('discount must be between 0 and 100');
    this.discountPercent = percent;
    return this;
  }

  subtotalCents() {
    let sum = 0;
    for (const line of this.lines.values()) sum += line.unitCents * line.qty;
    return sum;
  }

  discountCents() {
    return Math.round((this.subtotalCents() * this.discountPercent) / 100);
  }

  totalCents() {
    return this.subtotalCents() - this.discountCents();
  }

  summary(symbol = '€') {
    return {
      subtotal: formatCents(this.subtotalCents(), symbol),
      discount: formatCents(this.discountCents(), symbol),
      total: formatCents(this.totalCents(), symbol),
    };
  }
}

module.exports = { Cart };
