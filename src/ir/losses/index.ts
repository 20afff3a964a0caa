// Registration: one import per loss file.
export * from './loss.js';
import './infonce.js';
