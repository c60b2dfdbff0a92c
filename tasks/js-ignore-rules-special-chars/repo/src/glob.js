'use strict';

/**
 * A RegExp for a glob: '*' matches within one path segment, '?' one character,
 * '**' any number of segments ('a/**\/b' also matches 'a/b').
 */
function globToRegExp(glob) {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '*' && glob[i + 1] === '*') {
      if (glob[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (ch === '*') {
      re += '[^/]*';
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '.') {
      re += '\\.';
    } else {
      re += ch;
    }
  }
  return new RegExp(`^${re}$`);
}

module.exports = { globToRegExp };
