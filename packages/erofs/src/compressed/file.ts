import type { CompressedFile, CompressedFileContext } from './context.js';
import { CompressedDataError } from './errors.js';

/** Open a compressed (layout 1 or 3) regular file. Work in progress. */
export async function openCompressedFile(ctx: CompressedFileContext): Promise<CompressedFile> {
  throw new CompressedDataError('ENOTSUP', 'compressed files not implemented yet', ctx.inodeOffset, ctx.nid);
}
