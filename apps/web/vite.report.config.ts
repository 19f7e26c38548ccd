import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { viteSingleFile } from 'vite-plugin-singlefile';

/**
 * The static report template (docs/ci.md): the report views as one HTML file, every script
 * and style inlined (vite-plugin-singlefile), that reads a report embedded in the page instead
 * of the API. The CLI (`analyze --html`) and the server (`?format=html`) fill it. Built after
 * the UI into the same dist/ (as dist/report-template.html), so the server finds it in its web
 * directory.
 */
export default defineConfig({
  plugins: [react(), viteSingleFile({ removeViteModuleLoader: true })],
  resolve: { conditions: ['source'] },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    rollupOptions: { input: 'report-template.html' },
  },
});
