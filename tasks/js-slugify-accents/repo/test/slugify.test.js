'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { slugify } = require('../src/slugify');

describe('slugify', () => {
  it('lowercases and joins words', () => {
    assert.equal(slugify('Hello World'), 'hello-world');
  });

  it('collapses runs of punctuation and spaces', () => {
    assert.equal(slugify('Tips & Tricks -- 2024!'), 'tips-tricks-2024');
  });

  it('trims leading and trailing separators', () => {
    assert.equal(slugify('  ...Hello...  '), 'hello');
  });

  it('respects maxLength without a trailing separator', () => {
    assert.equal(slugify('one two three four', { maxLength: 8 }), 'one-two');
  });

  it('supports a custom separator', () => {
    assert.equal(slugify('Hello big World', { separator: '_' }), 'hello_big_world');
  });

  describe('unicode', () => {
    it('strips accents from latin letters', () => {
      assert.equal(slugify('Crème Brûlée'), 'creme-brulee');
    });

    it('keeps accented words whole', () => {
      assert.equal(slugify('Déjà vu at the Café'), 'deja-vu-at-the-cafe');
    });

    it('handles a leading accented capital', () => {
      assert.equal(slugify('Über uns'), 'uber-uns');
    });
  });
});
