/**
 * The version of the extension and of its npm package, from package.json at
 * build time (scripts/build.mjs defines `__AENB_VERSION__`).
 */
declare const __AENB_VERSION__: string | undefined;

export const VERSION: string = typeof __AENB_VERSION__ === 'string' ? __AENB_VERSION__ : '0.0.0-development';
