/** zs: the library's public API. */
export { ZsError, type ZsErrorKind } from './errors.js';
