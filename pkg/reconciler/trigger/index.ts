// Pure parts of the Trigger reconciler; the controller does the I/O.
export * from './names.js';
