// `npm start`: install what is missing, build, and start the server with the web UI and
// demo data. Port: PORT env or `npm start -- --port N` (default 8080); data folder:
// SHAREMAP_DATA (default ./data).
import { ensureInstalled, build, root, run } from './lib.mjs';
import path from 'node:path';

const args = process.argv.slice(2);
const portFlag = args.indexOf('--port');
const env = {};
if (portFlag >= 0 && args[portFlag + 1]) env.PORT = args[portFlag + 1];

ensureInstalled();
build();
process.exitCode = run(process.execPath, [path.join(root, 'apps/server/dist/main.js')], { env });
