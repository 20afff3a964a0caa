// Registration: one import per op file.
export * from './op.js';
import './relu.js';
import './conv2d.js';
import './batchnorm.js';
import './infonce.js';
import './matmul.js';
import './elementwise.js';
import './pool.js';
import './l2norm.js';
import './ntxent.js';
import './optimizers.js';
import './augment.js';
import './kd.js';
import './probe.js';
import './knn.js';
import './cross_entropy.js';
import './fused_elementwise.js';
import './views.js';
