// Registration: one import per op file.
export * from './op.js';
import './relu.js';
