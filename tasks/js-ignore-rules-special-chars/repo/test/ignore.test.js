'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { parseIgnoreFile, isIgnored, filterEntries } = require('../src');

describe('ignore rules', () => {
  it('skips comments and blank lines', () => {
    assert.equal(parseIgnoreFile('# cache\n\n*.tmp\n').length, 1);
  });

  it('unanchored patterns match names anywhere', () => {
    const rules = parseIgnoreFile('*.tmp\n');
    assert.ok(isIgnored('a/b/file.tmp', rules));
    assert.ok(!isIgnored('a/b/file.txt', rules));
  });

  it('folder-only rules ignore folders, not files', () => {
    const rules = parseIgnoreFile('build/\n');
    assert.ok(isIgnored('build', rules, true));
    assert.ok(!isIgnored('build', rules, false));
  });

  it('negation re-includes a path', () => {
    const rules = parseIgnoreFile('*.log\n!keep.log\n');
    assert.ok(isIgnored('x.log', rules));
    assert.ok(!isIgnored('keep.log', rules));
  });

  it('filterEntries drops the contents of ignored folders', () => {
    const entries = [
      { path: 'src', isDir: true },
      { path: 'src/a.js', isDir: false },
      { path: 'build', isDir: true },
      { path: 'build/out.js', isDir: false },
    ];
    assert.deepEqual(filterEntries(entries, parseIgnoreFile('build/\n')), ['src', 'src/a.js']);
  });

  it('folders with plus signs and parentheses can be ignored', () => {
    const rules = parseIgnoreFile('build+cache/\nNotes (old)/\n');
    const entries = [
      { path: 'build+cache', isDir: true },
      { path: 'build+cache/x.bin', isDir: false },
      { path: 'Notes (old)', isDir: true },
      { path: 'Notes (old)/todo.txt', isDir: false },
      { path: 'notes.txt', isDir: false },
    ];
    assert.deepEqual(filterEntries(entries, rules), ['notes.txt']);
  });
});
