// Pure builders and status logic of the Function reconciler; the controller does the I/O.
export * from './names.js';
export * from './config.js';
export * from './deployment.js';
export * from './services.js';
export * from './status.js';
export { coveredBy, parseQuantity } from './semantic.js';
