'use strict';

function isPlainObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Recursively merge plain objects from sources into target. Arrays and other values replace;
 * undefined values in a source are ignored.
 */
function deepMerge(target, ...sources) {
  for (const source of sources) {
    if (!isPlainObject(source)) continue;
    for (const [key, value] of Object.entries(source)) {
      if (value === undefined) continue;
      if (isPlainObject(value) && isPlainObject(target[key])) {
        target[key] = deepMerge(target[key], value);
      } else {
        target[key] = Array.isArray(value) ? value.slice() : value;
      }
    }
  }
  return target;
}

module.exports = { deepMerge, isPlainObject };
