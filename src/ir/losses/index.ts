// Registration: one import per loss file.
export * from './loss.js';
import './infonce.js';
import './cross_entropy.js';
import './kd.js';
