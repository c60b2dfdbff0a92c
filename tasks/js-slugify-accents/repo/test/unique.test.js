'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { uniqueSlug } = require('../src');

describe('uniqueSlug', () => {
  it('returns the plain slug when free', () => {
    assert.equal(uniqueSlug('Hello World', []), 'hello-world');
  });

  it('appends a counter when taken', () => {
    assert.equal(uniqueSlug('Hello World', new Set(['hello-world', 'hello-world-2'])), 'hello-world-3');
  });

  it('falls back to item for empty titles', () => {
    assert.equal(uniqueSlug('!!!', []), 'item');
  });

  it('numbers accented titles like plain ones', () => {
    assert.equal(uniqueSlug('Café', ['cafe']), 'cafe-2');
  });
});
