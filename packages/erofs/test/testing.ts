/**
 * What the tests of other packages share with the reader's (the "source"-only subpath
 * `@sharemap/erofs/testing`): seeded random numbers and the list of testdata's images.
 */
export { seededBytes, seededInts, seededRandom } from './seeded-random.js';
export { repositoryImages, type RepositoryImage } from './repository-images.js';
