'use strict';

const { globToRegExp } = require('./glob');

/** Rules from .syncignore text: one glob per line, '#' comments, '!' negates, trailing '/' = folders only. */
function parseIgnoreFile(text) {
  const rules = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.slice(0, -1);
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    rules.push({ pattern: raw.trim(), negate, dirOnly, anchored, regex: globToRegExp(line) });
  }
  return rules;
}

function ruleMatches(rule, path, isDir) {
  if (rule.dirOnly && !isDir) return false;
  if (rule.anchored) return rule.regex.test(path);
  return rule.regex.test(path.split('/').pop());
}

/** Whether PATH (relative, '/'-separated) is ignored, given its parent folders are not. Last match wins. */
function isIgnored(path, rules, isDir = false) {
  let ignored = false;
  for (const rule of rules) {
    if (ruleMatches(rule, path, isDir)) ignored = !rule.negate;
  }
  return ignored;
}

/** The paths of ENTRIES ({path, isDir}) to sync, skipping everything inside ignored folders. */
function filterEntries(entries, rules) {
  const skipped = [];
  return entries
    .filter(({ path, isDir }) => {
      if (skipped.some((dir) => path.startsWith(`${dir}/`))) return false;
      if (!isIgnored(path, rules, isDir)) return true;
      if (isDir) skipped.push(path);
      return false;
    })
    .map(({ path }) => path);
}

module.exports = { parseIgnoreFile, isIgnored, filterEntries };
