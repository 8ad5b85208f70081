/** `require` anchored in dist/native/ (see require.cjs). */
declare const nativeRequire: NodeJS.Require;
export = nativeRequire;
