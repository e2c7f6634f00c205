export * from './errors.js';
export * from './rest.js';
export * from './realtime.js';
export * from './strategies.js';
