// The yaml package, for modules that load it with import(). yaml is CommonJS: imported statically here, the
// bundler gives its named exports (a dynamic import() of a CommonJS package in the split bundle yields only
// `default`, so `(await import('yaml')).LineCounter` is undefined in what users run).
import * as yaml from 'yaml';

export { yaml };
