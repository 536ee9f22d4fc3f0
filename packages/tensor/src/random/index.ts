export { type CategoricalOptions, categorical } from './categorical.js';
export { type NormalOptions, normal, type UniformOptions, uniform } from './continuous.js';
export { bernoulli, permutation, randint } from './discrete.js';
export { foldIn, Generator, key, PRNGKey, randomBits, split } from './key.js';
export { threefry2x32 } from './threefry.js';
