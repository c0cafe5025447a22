// A ustar archive of small text files: what `coder templates push` uploads.

function header(name: string, size: number): Buffer {
  const h = Buffer.alloc(512, 0);
  const field = (offset: number, length: number, value: string) =>
    h.write(value.slice(0, length), offset, "ascii");
  const octal = (offset: number, length: number, value: number) =>
    field(offset, length, value.toString(8).padStart(length - 1, "0") + "\0");
  field(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, Math.floor(Date.now() / 1000));
  h.fill(" ", 148, 156); // checksum counts as spaces while it is computed
  field(156, 1, "0");
  field(257, 6, "ustar\0");
  field(263, 2, "00");
  let sum = 0;
  for (const byte of h) sum += byte;
  field(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

export function tar(files: Record<string, string>): Uint8Array {
  const parts: Buffer[] = [];
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text, "utf8");
    parts.push(header(name, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512, 0));
  }
  parts.push(Buffer.alloc(1024, 0));
  return new Uint8Array(Buffer.concat(parts));
}
