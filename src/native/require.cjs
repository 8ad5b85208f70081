// The package's CommonJS `require`, anchored in dist/native/. Both builds (ESM and CJS) load the
// generated binding loader and read package metadata through it, so neither needs `import.meta`
// and both share one module cache entry for the binding.
module.exports = require;
