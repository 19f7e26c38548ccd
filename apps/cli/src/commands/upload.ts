/**
 * `sharemap upload IMAGE... --server URL`: send images (or, with --scan-locally, only their
 * manifests) and mount configurations to a sharemap server, create the report, print its
 * link and summary, and gate on thresholds like `analyze`.
 */
import type {
  ArchiveInfo,
  ImageInfo,
  ManifestInfo,
  MountConfigInfo,
  ReportCreated,
  ReportRequest,
  ResidencyInfo,
} from '@sharemap/api';
import { basename, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { manifestToNdjson, type Manifest } from '@sharemap/erofs';
import { formatBytes, type Report } from '@sharemap/sharing';
import { flag, helpText, parseCommandArgs, positionalsWithDevices, str, type CommandSpec } from '../args.js';
import { ServerClient } from '../client.js';
import { EXIT_OK, inputError, oneLine, serverError } from '../errors.js';
import { detectInput, loadInputs, readMaybeGzipText, readMountInput, readResidencyFile } from '../inputs.js';
import { splitResidencyArg } from '../config.js';
import { MODEL_OPTIONS, parseModel } from '../model-options.js';
import type { Io } from '../io.js';
import {
  ANALYSIS_OPTIONS,
  GATE_OPTIONS,
  OUTPUT_OPTIONS,
  outputFiles,
  outputFormat,
  resolveSettings,
} from '../options.js';
import { createProgress, type Progress } from '../progress.js';
import { requestedThreads, threadsOption } from '../scan-threads.js';
import { reportNameProblem } from '@sharemap/sharing';
import { finish, loadBaseline, saveAs } from './common.js';
import { readFile, stat } from 'node:fs/promises';
import { fsMessage, reportFromJson } from '../inputs.js';
import { COMMAND_SUMMARIES } from './summaries.js';

export const uploadSpec: CommandSpec = {
  name: 'upload',
  summary: COMMAND_SUMMARIES.upload,
  usage:
    'sharemap upload IMAGE... [--device BLOB]... [--mounts FILE]... [--residency [INSTANCE=]FILE]... --server URL [--token T] [--scan-locally] [--baseline NAME|ID|URL|FILE] [--save-as NAME] [--json|--markdown] [thresholds]',
  details: [
    'OCI archives (docker save, OCI layout tars, rootfs tars) are sent to the server, which predicts their manifests (docs/oci.md; --model layers|flattened); with --scan-locally, and for OCI layout directories, they are read here and only the predicted manifests are sent.',
    'Images are streamed to the server, which scans them. With --scan-locally the images are scanned here and only their manifests (gzip NDJSON) are sent: the image bytes never leave the machine. Manifest files (from `sharemap scan`) are sent as they are.',
    'The token is read from --token or, better in CI, from the SHAREMAP_TOKEN environment variable. Progress goes to stderr: a bar on a terminal, plain lines otherwise. The report link is printed on stdout (first line of the text output).',
    'CI: the main branch saves each report under a name (--save-as main), pull requests compare with it (--baseline main) and gate on the change. --baseline is resolved before anything is uploaded, so --baseline main --save-as main compares with the previous report of that name, then moves the name.',
    'Exit codes: 0 pass, 1 a threshold failed, 2 bad input or usage (including the server rejecting an input or the token, and an unknown --baseline name), 3 server or network error.',
  ],
  options: {
    model: MODEL_OPTIONS.model!,
    platform: MODEL_OPTIONS.platform!,
    device: {
      type: 'string',
      multiple: true,
      value: 'BLOB',
      description: 'Extra device of the image named before it (--blobdev blob, --tar=i tarball).',
      group: 'Inputs',
    },
    'scan-locally': {
      type: 'boolean',
      description: 'Scan images here and upload only their manifests.',
      group: 'Inputs',
    },
    hash: {
      type: 'boolean',
      description: 'With --scan-locally: hash file contents to verify fingerprints.',
      group: 'Inputs',
    },
    threads: threadsOption('Inputs'),
    server: {
      type: 'string',
      value: 'URL',
      description: 'Server base URL (default: server in .sharemap.yml, then $SHAREMAP_SERVER).',
      group: 'Server',
    },
    token: {
      type: 'string',
      value: 'T',
      description: 'Bearer token (default: $SHAREMAP_TOKEN).',
      group: 'Server',
    },
    quiet: { type: 'boolean', short: 'q', description: 'No progress output on stderr.', group: 'Server' },
    ...ANALYSIS_OPTIONS,
    ...OUTPUT_OPTIONS,
    baseline: {
      type: 'string',
      value: 'NAME|ID|URL|FILE',
      description:
        'Compare with a previous report: a report JSON file, a report link, a report id, or a report name on the server (e.g. main, set by --save-as).',
      group: 'Baseline',
    },
    'save-as': {
      type: 'string',
      value: 'NAME',
      description:
        'Point the report name NAME at the new report (set or move it), e.g. main on the main branch; later runs use --baseline NAME. Letters, digits, ".", "_", "-", "/"; 1-100 characters.',
      group: 'Baseline',
    },
    ...GATE_OPTIONS,
  },
  positionals: { min: 1, name: 'IMAGE' },
  examples: [
    'SHAREMAP_TOKEN=... sharemap upload build/*.erofs --mounts deploy/fstab --server https://sharemap.example.com',
    'sharemap upload build/*.erofs --mounts deploy/fstab --server https://sharemap.example.com --save-as main',
    'sharemap upload build/*.erofs --mounts deploy/fstab --baseline main --min-saved-percent 20 --markdown',
  ],
};

function gzipNdjson(m: Manifest): ReadableStream<Uint8Array> {
  const gz = Readable.from(manifestToNdjson(m)).pipe(createGzip());
  return Readable.toWeb(gz) as unknown as ReadableStream<Uint8Array>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll GET /api/images/:id until the server's scan is ready; a failed scan is bad input (exit 2). */
async function waitForScan(
  client: ServerClient,
  id: string,
  path: string,
  progress: Progress,
  io: Io,
): Promise<void> {
  let delay = 100;
  let noted = false;
  for (;;) {
    const img = await client.request<ImageInfo>('GET', `/api/images/${encodeURIComponent(id)}`, {
      what: `status of image ${id}`,
    });
    if (img.status === 'ready' || img.status === undefined) return;
    if (img.status === 'failed')
      throw inputError(
        `${path}: the server could not read the image: ${img.error?.code ? `${img.error.code}: ` : ''}${img.error?.message ?? 'scan failed'}`,
      );
    if (!noted) {
      progress.note(`waiting for the server to scan ${basename(path)}...`);
      noted = true;
    }
    if (io.signal?.aborted) throw serverError('interrupted');
    await sleep(delay);
    delay = Math.min(1000, delay * 2);
  }
}

export async function uploadCommand(argv: string[], io: Io): Promise<number> {
  const args = parseCommandArgs(uploadSpec, argv);
  if (flag(args, 'help')) {
    io.stdout.write(helpText(uploadSpec));
    return EXIT_OK;
  }
  const format = outputFormat(args);
  const settings = await resolveSettings(args, io);
  const server = settings.server ?? io.env.SHAREMAP_SERVER;
  if (!server)
    throw inputError(
      'sharemap upload: no server: give --server URL (or server: in .sharemap.yml, or $SHAREMAP_SERVER)',
    );
  const token = str(args, 'token') ?? io.env.SHAREMAP_TOKEN;
  const opts = { ...(token ? { token } : {}), ...(io.signal ? { signal: io.signal } : {}) };
  const client = new ServerClient(server, opts);
  const progress = createProgress(io.stderr, { quiet: flag(args, 'quiet') });
  const scanLocally = flag(args, 'scan-locally');
  const model = parseModel(str(args, 'model'));
  const platform = str(args, 'platform');
  const archive = {
    layerCache: new Map(),
    layerManifests: new Map(),
    ...(platform !== undefined ? { platform } : {}),
  };
  const sent = new Set<unknown>();
  if (flag(args, 'hash') && !scanLocally)
    throw inputError('sharemap upload: --hash needs --scan-locally (the server hashes what it scans)');
  const threads = requestedThreads(args, 'upload');
  const saveName = str(args, 'save-as');
  const nameProblem = saveName === undefined ? undefined : reportNameProblem(saveName);
  if (nameProblem !== undefined) throw inputError(`--save-as ${saveName}: a report name ${nameProblem}`);

  // Check every input before sending anything.
  const inputs = positionalsWithDevices(args);
  const kinds = await Promise.all(inputs.map((x) => detectInput(x.path)));
  for (const p of settings.mounts)
    await readFile(p).catch((e: unknown) => Promise.reject(inputError(`${p}: cannot read: ${fsMessage(e)}`)));
  // Residency inputs are parsed here first, so a bad line fails before anything is sent.
  const residencyArgs = settings.residency.map((arg) => {
    const { instance, file } = splitResidencyArg(arg, io.cwd);
    return { instance, file: resolve(io.cwd, file) };
  });
  for (const r of residencyArgs) await readResidencyFile(r.file);

  await client.checkWriteAccess();
  // The baseline before the upload: a bad or unknown one fails fast, and with --save-as of the
  // same name it is the previous report of that name.
  const ref = str(args, 'baseline');
  const { token: _token, ...tokenless } = opts;
  const mk = (base: string, withToken: boolean): ServerClient =>
    new ServerClient(base, withToken ? opts : tokenless);
  const baseline = ref !== undefined ? await loadBaseline(ref, io, client, mk) : null;
  if (baseline?.url) progress.note(`baseline${ref === baseline.url ? '' : ` ${ref}`}: ${baseline.url}`);
  const imageIds: string[] = [];
  const manifestIds: string[] = [];
  const pending: { id: string; path: string }[] = [];
  for (const [k, input] of inputs.entries()) {
    const name = basename(input.path);
    if (kinds[k] === 'image' && !scanLocally) {
      const size = (await stat(input.path)).size;
      const devSizes = await Promise.all(input.devices.map(async (d) => (await stat(d)).size));
      progress.start(`uploading ${name}`, size + devSizes.reduce((a, b) => a + b, 0));
      const what = `upload of ${input.path}`;
      // An image with devices goes as one multipart request, so the server scans it once.
      const reply =
        input.devices.length === 0
          ? await client.uploadFile<ImageInfo>(input.path, `/api/images?name=${encodeURIComponent(name)}`, {
              onProgress: (sent) => progress.update(sent),
              what,
            })
          : await client.uploadMultipart<ImageInfo>(
              '/api/images',
              [
                { field: 'image', path: input.path, name },
                ...input.devices.map((d) => ({ field: 'device', path: d, name: basename(d) })),
              ],
              { onProgress: (sent) => progress.update(sent), what },
            );
      if (!reply || typeof reply.id !== 'string')
        throw serverError(`upload of ${input.path}: the server's reply has no image id`);
      pending.push({ id: reply.id, path: input.path });
      imageIds.push(reply.id);
      progress.done(`uploaded ${name} as image ${reply.id}${reply.deduplicated ? ' (already known)' : ''}`);
    } else if (kinds[k] === 'archive' && !scanLocally && (await stat(input.path)).isFile()) {
      // An archive file goes to the server, which predicts it (POST /api/archives, docs/oci.md);
      // a layout directory is predicted here (below).
      if (input.devices.length > 0)
        throw inputError(`${input.path}: --device applies to EROFS images, not to archives`);
      const size = (await stat(input.path)).size;
      progress.start(`uploading ${name}`, size);
      const query = new URLSearchParams({ name, model, ...(platform !== undefined ? { platform } : {}) });
      const reply = await client.uploadFile<ArchiveInfo>(input.path, `/api/archives?${query}`, {
        onProgress: (sent) => progress.update(sent),
        what: `upload of ${input.path}`,
      });
      if (!reply || !Array.isArray(reply.manifests) || !Array.isArray(reply.images))
        throw serverError(`upload of ${input.path}: the server's reply has no manifests`);
      // Per layer, manifest k is the k-th distinct layer of the archive: a layer already sent
      // with another archive is one EROFS image, mounted once (docs/oci.md, two models).
      const layerOf =
        model === 'layers' ? [...new Set(reply.images.flatMap((i) => i.layers.map((l) => l.diffId)))] : [];
      for (const [j, m] of reply.manifests.entries()) {
        const diffId = layerOf[j];
        if (diffId) {
          if (sent.has(diffId)) continue;
          sent.add(diffId);
        }
        manifestIds.push(m.id);
      }
      progress.done(
        `uploaded ${name} (${reply.kind}): ${reply.manifests.length} predicted manifest(s), ${model}`,
      );
    } else {
      if (kinds[k] === 'image') progress.note(`scanning ${name} locally...`);
      if (kinds[k] === 'archive') progress.note(`predicting ${name} (OCI image, read here)...`);
      // An OCI archive gives one predicted manifest per image or per distinct layer (--model).
      for (const loaded of await loadInputs(input.path, input.devices, {
        kind: kinds[k],
        hash: flag(args, 'hash'),
        ...(threads !== undefined ? { threads } : {}),
        env: io.env,
        model,
        archive,
      })) {
        if (sent.has(loaded.manifest)) continue; // a layer shared by several archives is one image
        sent.add(loaded.manifest);
        const reply = await client.request<ManifestInfo>(
          'POST',
          `/api/manifests?name=${encodeURIComponent(loaded.manifest.image.name)}`,
          {
            body: gzipNdjson(loaded.manifest),
            stream: true,
            headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
            what: `upload of the manifest of ${input.path}`,
          },
        );
        if (!reply || typeof reply.id !== 'string')
          throw serverError(`upload of the manifest of ${input.path}: the server's reply has no manifest id`);
        manifestIds.push(reply.id);
        progress.note(
          `uploaded the ${loaded.manifest.predicted ? 'predicted ' : ''}manifest of ${loaded.manifest.image.name} (${loaded.manifest.files.length} records) as ${reply.id}`,
        );
      }
    }
  }
  // The server scans uploaded images in the background: wait for each.
  for (const p of pending) await waitForScan(client, p.id, p.path, progress, io);
  const mountConfigIds: string[] = [];
  const residency: { id: string; instance?: string }[] = [];
  const sendResidency = async (text: string, path: string, instance?: string): Promise<void> => {
    const reply = await client.request<ResidencyInfo>(
      'POST',
      `/api/residency?name=${encodeURIComponent(basename(path))}`,
      {
        body: gzipSync(text),
        headers: { 'content-type': 'text/plain; charset=utf-8', 'content-encoding': 'gzip' },
        what: `upload of residency ${path}`,
      },
    );
    residency.push(instance === undefined ? { id: reply.id } : { id: reply.id, instance });
    progress.note(`uploaded residency ${basename(path)}`);
  };
  for (const p of settings.mounts) {
    // A host snapshot: without its residency it is the mount configuration; the residency goes apart.
    const { text, raw, residency: snapshotResidency } = await readMountInput(p);
    if (snapshotResidency) await sendResidency(raw, p);
    const reply = await client.request<MountConfigInfo>(
      'POST',
      `/api/mount-configs?name=${encodeURIComponent(basename(p))}`,
      {
        body: text,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        what: `upload of mount configuration ${p}`,
      },
    );
    mountConfigIds.push(reply.id);
    // The server detects the format from the name and the content: say which reading it used.
    const readAs = typeof reply.format === 'string' ? `, read as ${reply.format}` : '';
    progress.note(`uploaded mount configuration ${basename(p)} (${formatBytes(text.length)}${readAs})`);
  }
  for (const r of residencyArgs) await sendResidency(await readMaybeGzipText(r.file), r.file, r.instance);
  const options: NonNullable<ReportRequest['options']> = {};
  if (settings.pageSize !== undefined) options.pageSize = settings.pageSize;
  if (settings.workingSet !== undefined) options.workingSetFraction = settings.workingSet;
  const body: ReportRequest = {
    images: imageIds,
    manifests: manifestIds,
    mountConfigs: mountConfigIds,
    options,
  };
  if (residency.length > 0) body.residency = residency;
  if (Object.keys(settings.mapping).length > 0) body.mapping = settings.mapping;
  if (Object.keys(settings.publishers).length > 0) body.publishers = settings.publishers;
  // The server evaluates the trust policy too, so the stored report carries its result.
  if (settings.trust && Object.keys(settings.trust).length > 0) body.trustPolicy = settings.trust;
  const created = await client.request<ReportCreated>('POST', '/api/reports', {
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
    what: 'report creation',
  });
  if (!created || typeof created.id !== 'string')
    throw serverError("report creation: the server's reply has no report id");
  const url = client.url(created.url ?? `/r/${created.id}`);
  const seen = new Set<string>();
  for (const w of created.warnings ?? []) if (w.message) seen.add(oneLine(w.message));
  for (const u of created.unresolved ?? []) {
    const o = u.origin;
    seen.add(
      `${o ? `${o.file}:${o.line}:${o.column}: ` : ''}${u.mountPoint ?? '?'} ignored: ${oneLine(u.reason ?? '')}`,
    );
  }
  for (const w of seen) io.stderr.write(`sharemap: warning: ${w}\n`);
  progress.note(`report: ${url}`);
  const report: Report = reportFromJson(
    await client.request<unknown>('GET', `/api/reports/${encodeURIComponent(created.id)}`, {
      what: `report ${created.id}`,
    }),
    `report ${created.id}`,
  );
  if (saveName !== undefined) {
    await saveAs(client, saveName, created.id);
    progress.note(`report name "${saveName}" now points at ${url}`);
  }
  return finish(io, report, settings, format, {
    baseline,
    ...(ref !== undefined ? { baselineRef: ref } : {}),
    ...outputFiles(args),
    url,
    id: created.id,
    ...(saveName !== undefined ? { savedAs: saveName } : {}),
    threatModel: flag(args, 'threat-model'),
  });
}
