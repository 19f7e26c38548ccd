import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The sharemap web UI. Workspace packages compile from their TypeScript source (the
 * `source` export condition); /api goes to the server in development.
 */
export default defineConfig({
  plugins: [react()],
  resolve: { conditions: ['source'] },
  worker: { format: 'es' },
  server: {
    port: 5173,
    proxy: { '/api': { target: process.env.SHAREMAP_API ?? 'http://localhost:8080', changeOrigin: true } },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
});
