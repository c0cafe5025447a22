// Converts Coder's Swagger 2.0 description (read from ../shared, never copied here) to
// OpenAPI 3 for openapi-typescript, and corrects what the description gets wrong about
// Coder's own wire format, so that the generated client expects what Coder itself sends
// (docs/compatibility.md lists each correction).
import { readFileSync, writeFileSync } from "node:fs";
import converter from "swagger2openapi";

const [input, output] = process.argv.slice(2);
const swagger = JSON.parse(readFileSync(input, "utf8"));
const { openapi } = await converter.convertObj(swagger, { patch: true, warnOnly: true });
const schemas = openapi.components.schemas;

// 1. Go's uuid.NullUUID marshals as a UUID string or null, not as {uuid, valid}.
schemas["uuid.NullUUID"] = { type: "string", format: "uuid", nullable: true };

for (const schema of Object.values(schemas)) {
  if (!schema.properties) continue;
  const required = new Set(schema.required ?? []);
  for (const [name, property] of Object.entries(schema.properties)) {
    // 2. A property that narrows a referenced enum with an enum of its own (swaggo's
    //    `enums` tag) is documentation: the server sends every value of the referenced
    //    enum (a new user's status is "dormant").
    if (property.enum && property.allOf?.some((s) => s.$ref)) delete property.enum;
    // 3. Go sends null for an optional pointer, slice, map or NullTime; the description
    //    marks none of them nullable.
    if (required.has(name)) continue;
    if (property.type) property.nullable = true;
    else schema.properties[name] = { anyOf: [property, { type: "null" }] };
  }
}
// 4. Responses the description types wrongly: Coder's handlers write one object where the
//    description says an array, and user roles are codersdk.UserRoles, not a User.
const json = (path) => openapi.paths[path].get.responses["200"].content["application/json"];
json("/templates/{template}/versions/{templateversionname}").schema = {
  $ref: "#/components/schemas/codersdk.TemplateVersion",
};
json("/users/{user}/quiet-hours").schema = {
  $ref: "#/components/schemas/codersdk.UserQuietHoursScheduleResponse",
};
json("/users/{user}/roles").schema = {
  type: "object",
  properties: {
    roles: { type: "array", items: { type: "string" } },
    organization_roles: {
      type: "object",
      additionalProperties: { type: "array", items: { type: "string" } },
    },
  },
};
writeFileSync(output, JSON.stringify(openapi, null, 1));
