// Decodes every response against the schema Coder's API description gives it, as a client
// built from that description would: the types openapi-typescript generated say what the
// client expects at compile time; this checks, at run time, that what Berth sent fits them.
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import type { ValidateFunction } from "ajv";

type Json = unknown;

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

export interface Mismatch {
  request: string;
  problems: string[];
}

export class Checker {
  private readonly ajv: Ajv;
  private readonly document: { paths: Record<string, Record<string, Operation>> };
  private readonly compiled = new Map<string, ValidateFunction | null>();
  readonly mismatches: Mismatch[] = [];
  readonly unchecked: string[] = [];
  requests = 0;

  constructor(openapiPath: string) {
    this.document = JSON.parse(readFileSync(openapiPath, "utf8"));
    // The whole document is one schema, so that `#/components/schemas/...` references
    // resolve; formats are the generated types' business (they are all `string`).
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, validateFormats: false });
    this.ajv.addSchema(this.document as object, "coder");
  }

  // The validator of `method path`'s response `status` (the lowest 2xx listed when the
  // description does not list it), or null when the description gives no JSON body.
  private validator(method: string, path: string, status: number): ValidateFunction | null {
    const key = `${method} ${path} ${status}`;
    if (this.compiled.has(key)) return this.compiled.get(key)!;
    const operation = this.document.paths[path]?.[method.toLowerCase()];
    let fn: ValidateFunction | null = null;
    if (operation?.responses) {
      const codes = Object.keys(operation.responses);
      const code = codes.includes(String(status))
        ? String(status)
        : codes.filter((c) => c.startsWith("2")).sort()[0];
      const schema = code ? operation.responses[code]?.content?.["application/json"]?.schema : undefined;
      if (schema) {
        const pointer = `#/paths/${path.replace(/~/g, "~0").replace(/\//g, "~1")}/${method.toLowerCase()}/responses/${code}/content/application~1json/schema`;
        fn = this.ajv.compile({ $ref: `coder${pointer}` });
      }
    }
    this.compiled.set(key, fn);
    return fn;
  }

  // Checks one 2xx response body; `path` is the description's path template.
  check(method: string, path: string, status: number, body: Json): void {
    this.requests++;
    const request = `${method} ${path} → ${status}`;
    if (!this.document.paths[path]?.[method.toLowerCase()]) {
      this.unchecked.push(request);
      return;
    }
    const validate = this.validator(method, path, status);
    if (!validate || validate(body)) return;
    this.mismatches.push({
      request,
      problems: (validate.errors ?? []).map(
        (e) => `${e.instancePath || "$"} ${e.message ?? ""} ${JSON.stringify(e.params)}`,
      ),
    });
  }
}
