// Bundles src/ into <outdir>: hashed, immutable assets under assets/ (the terminal's xterm.js is
// a separate chunk, loaded only on the terminal page), an index.html that names them, and a
// gzip and a brotli copy of each file for the server to choose from.
import { build } from "esbuild";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const target = process.argv[2];
if (!target) throw new Error("usage: node build.mjs <outdir>");
// Written beside the target and swapped in at the end, so that a server starting meanwhile
// loads the old dashboard or the new one, never half of one.
const out = `${target}.new-${process.pid}`;
rmSync(out, { recursive: true, force: true });
const assets = join(out, "assets");

const result = await build({
  entryPoints: { app: "src/main.tsx" },
  bundle: true,
  splitting: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: false,
  outdir: assets,
  entryNames: "[name]-[hash]",
  chunkNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  jsx: "automatic",
  jsxImportSource: "preact",
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
});

const outputs = Object.entries(result.metafile.outputs);
const entry = outputs.find(([, o]) => o.entryPoint === "src/main.tsx");
if (!entry) throw new Error("esbuild wrote no entry point");
const name = (path) => "/" + relative(out, path).split("\\").join("/");
const script = name(entry[0]);
const css = entry[1].cssBundle ? name(entry[1].cssBundle) : null;

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Berth</title>
${css ? `<link rel="stylesheet" href="${css}">\n` : ""}<script type="module" src="${script}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Berth dashboard needs JavaScript.</noscript>
</body>
</html>
`;
writeFileSync(join(out, "index.html"), html);

function* files(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}
for (const path of [...files(out)]) {
  const data = readFileSync(path);
  writeFileSync(path + ".gz", gzipSync(data, { level: 9 }));
  writeFileSync(
    path + ".br",
    brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  );
}

const old = `${target}.old-${process.pid}`;
if (existsSync(target)) renameSync(target, old);
renameSync(out, target);
rmSync(old, { recursive: true, force: true });
