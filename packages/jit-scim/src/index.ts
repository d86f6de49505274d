export * from './errors.js';
export * from './filter.js';
