/**
 * The one place the core imports tfjs from. The union package registers the chained ops
 * (`x.reshape(...)`) and every gradient in both its Node and its browser builds; tfjs-core alone
 * does neither in its ES-module build.
 */
export * from '@tensorflow/tfjs';
