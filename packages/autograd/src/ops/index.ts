export * from './convert.js';
export * from './elementwise.js';
export * from './movement.js';
export * from './reduce.js';
