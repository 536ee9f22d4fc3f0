// Seeded, splittable randomness without leaving the Tensor API: keys for `randn`, `rand`,
// `dropout` and layer initializers (`tg.randn(tg.random.key(0), [2, 3])`), as in JAX.
import { random } from '@tsgrad/tensor';

export type PRNGKey = random.PRNGKey;
export const { key, split, foldIn, PRNGKey, Generator } = random;
export type Generator = random.Generator;
