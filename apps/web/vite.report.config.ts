import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { viteSingleFile } from 'vite-plugin-singlefile';

/**
 * The static report template (docs/ci.md): the report views as one HTML file, every script
 * and style inlined (vite-plugin-singlefile), that reads a report embedded in the page instead
 * of the API. The CLI (`analyze --html`) and the server (`?format=html`) fill it. Built after
 * the UI into the same dist/ (as dist/report-template.html), so the server finds it in its web
 * directory.
 */
/**
 * The app's script goes from the head to the body, after the summary's place (the comment
 * `<!--sharemap:summary-->` the CLI and the server fill), as an async module: it runs as soon
 * as the parser reaches it, so the headline shows while the parser still reads the file table
 * (megabytes of base64) that follows it.
 */
function scriptAfterSummary(): Plugin {
  return {
    name: 'sharemap-script-after-summary',
    transformIndexHtml: {
      order: 'post',
      handler(html) {
        const m = /<script type="module"[^>]*><\/script>\s*/.exec(html);
        const mark = '<!--sharemap:summary-->';
        if (!m || !html.includes(mark))
          throw new Error('report-template.html: no module script or no summary mark');
        const tag = m[0].trim().replace('<script type="module"', '<script type="module" async');
        return html.replace(m[0], '').replace(mark, `${mark}\n    ${tag}`);
      },
    },
  };
}

export default defineConfig({
  plugins: [react(), scriptAfterSummary(), viteSingleFile({ removeViteModuleLoader: true })],
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
