export * from './errors.js';
export * from './rest.js';
