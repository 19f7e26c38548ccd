/**
 * Set-up file of the `cli-shared` project (vitest.config.ts): its files share worker processes,
 * which import helpers.ts once, so the hook helpers.ts registers belongs to the first file
 * only. This registers it for every file: the folders tmp() made are gone when the file ends.
 */
import { afterAll } from 'vitest';
import { removeTmpDirs } from './helpers.js';

afterAll(removeTmpDirs);
