// Create a workspace from a template (`/templates/:template/workspace`, Coder's path): a form
// generated from the version's rich parameters, one control per parameter as its form_type
// asks, presets, checks next to each field, and the API's validations on the field they name.
// `?name=`, `?version=` and `?param.<name>=` prefill it, as in Coder.
import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, ApiError, seg } from "../api";
import { Badge, ErrorAlert, Field, Loading, PageHeader } from "../components";
import { useLoad, useSubmit } from "../hooks";
import { Link, navigate, useLocation } from "../router";
import type { ParameterOption, Preset, Template, TemplateVersionParameter, Workspace } from "../types";

interface FormSource {
  template: Template;
  versionId: string;
  parameters: TemplateVersionParameter[];
  presets: Preset[];
}

async function loadFormSource(templateName: string, version: string | null): Promise<FormSource> {
  const templates = await api.get<Template[]>("/templates");
  const template = templates.find((t) => t.name === templateName);
  if (!template)
    throw new ApiError(404, `Template "${templateName}" was not found.`, "It does not exist, or you cannot use it.", []);
  const versionId = version || template.active_version_id;
  const [parameters, presets] = await Promise.all([
    api.get<TemplateVersionParameter[]>(`/templateversions/${seg(versionId)}/rich-parameters`),
    api.get<Preset[] | null>(`/templateversions/${seg(versionId)}/presets`),
  ]);
  // The API lists them in the template's order already; `order` settles any it left out.
  const ordered = parameters.map((p, i) => ({ p, i }));
  ordered.sort((a, b) => (a.p.order ?? 0) - (b.p.order ?? 0) || a.i - b.i);
  return { template, versionId, parameters: ordered.map((o) => o.p), presets: presets ?? [] };
}

export function CreateWorkspacePage({ params }: { params: Record<string, string> }) {
  const templateName = params.template ?? "";
  const { query } = useLocation();
  const version = query.get("version");
  const source = useLoad(() => loadFormSource(templateName, version), [templateName, version]);
  return (
    <div class="create-workspace">
      <PageHeader title="New workspace" />
      <p class="muted">
        From template <Link href={`/templates/${seg(templateName)}`}>{source.data?.template.display_name || templateName}</Link>
      </p>
      {source.error && <ErrorAlert error={source.error} />}
      {!source.data && !source.error && <Loading what="the template's parameters" />}
      {source.data && <CreateWorkspaceForm source={source.data} query={query} />}
    </div>
  );
}

// Why a workspace name would be refused (Coder's rules), or undefined.
export function workspaceNameProblem(name: string): string | undefined {
  if (!name) return "Please enter a name for the workspace.";
  if (name.length > 32) return "Use at most 32 characters.";
  if (name === "new" || name === "create") return `"${name}" is reserved; pick another name.`;
  if (!/^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$/.test(name))
    return "Use letters, numbers and single hyphens, not at the start or end.";
  return undefined;
}

function initialValues(parameters: TemplateVersionParameter[], query: URLSearchParams): Record<string, string> {
  const values: Record<string, string> = {};
  for (const p of parameters) values[p.name] = query.get(`param.${p.name}`) ?? p.default_value;
  return values;
}

function CreateWorkspaceForm({ source, query }: { source: FormSource; query: URLSearchParams }) {
  const { template, versionId, parameters, presets } = source;
  const [name, setName] = useState(query.get("name") ?? "");
  const [values, setValues] = useState(() => initialValues(parameters, query));
  const [presetId, setPresetId] = useState("");
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  // The API's verdicts per field, until that field changes.
  const [apiFields, setApiFields] = useState<Record<string, string>>({});

  const preset = presets.find((p) => p.id === presetId);
  const presetValues = useMemo(() => {
    const out = new Map<string, string>();
    for (const pv of preset?.parameters ?? []) out.set(pv.name, pv.value);
    return out;
  }, [preset]);

  const choosePreset = (id: string) => {
    setPresetId(id);
    const chosen = presets.find((p) => p.id === id);
    if (chosen?.parameters)
      setValues((v) => {
        const next = { ...v };
        for (const pv of chosen.parameters ?? []) if (pv.name in next) next[pv.name] = pv.value;
        return next;
      });
  };
  // A preset marked default is chosen to begin with, as in Coder.
  useEffect(() => {
    const preferred = presets.find((p) => p.default);
    if (preferred) choosePreset(preferred.id);
  }, []);

  const nameProblem = workspaceNameProblem(name);
  const problems: Record<string, string | undefined> = {};
  for (const p of parameters) problems[p.name] = parameterProblem(p, values[p.name] ?? "");
  const shown = (field: string, problem: string | undefined) =>
    submitted || touched.has(field) ? problem ?? apiFields[field] : apiFields[field];

  const touch = (field: string) => {
    if (!touched.has(field)) setTouched(new Set(touched).add(field));
    if (apiFields[field] !== undefined) {
      const rest = { ...apiFields };
      delete rest[field];
      setApiFields(rest);
    }
  };

  const create = useSubmit(async () => {
    const body = {
      name,
      template_version_id: versionId,
      rich_parameter_values: parameters.map((p) => ({ name: p.name, value: values[p.name] ?? "" })),
      ...(presetId ? { template_version_preset_id: presetId } : {}),
    };
    const created = await api.post<Workspace>(`/organizations/${seg(template.organization_id)}/members/me/workspaces`, body);
    navigate(`/@${seg(created.owner_name)}/${seg(created.name)}`);
  });
  const submit = async (e: Event) => {
    e.preventDefault();
    setSubmitted(true);
    if (nameProblem || parameters.some((p) => problems[p.name])) {
      // Take the eye (and the keyboard) to the first field that needs work.
      requestAnimationFrame(() => document.querySelector<HTMLElement>(".create-workspace .invalid input, .create-workspace .invalid select, .create-workspace .invalid textarea")?.focus());
      return;
    }
    setApiFields({});
    const failure = await create.submit();
    if (failure) setApiFields(Object.fromEntries(failure.validations.map((v) => [v.field, v.detail])));
  };

  return (
    <form class="card create-form" noValidate onSubmit={submit}>
      {template.deprecated && (
        <div class="alert warn" role="status">
          This template is deprecated{template.deprecation_message ? `: ${template.deprecation_message}` : "."}
        </div>
      )}
      <Field
        label="Workspace name"
        id="workspace-name"
        hint="Letters, numbers and hyphens; at most 32 characters."
        error={shown("name", nameProblem)}
      >
        <input
          id="workspace-name"
          name="name"
          value={name}
          autoComplete="off"
          aria-required="true"
          aria-invalid={Boolean(shown("name", nameProblem))}
          aria-describedby="workspace-name-hint workspace-name-error"
          onInput={(e) => {
            setName(e.currentTarget.value);
            touch("name");
          }}
        />
      </Field>
      {presets.length > 0 && (
        <Field
          label="Preset"
          id="workspace-preset"
          hint={preset ? preset.description || "The preset sets the parameters marked below." : "Fill in every parameter yourself."}
          error={shown("template_version_preset_id", undefined)}
        >
          <select id="workspace-preset" value={presetId} onChange={(e) => choosePreset(e.currentTarget.value)}>
            <option value="">None</option>
            {presets.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
      )}
      {parameters.length > 0 && <h2>Parameters</h2>}
      {parameters.map((p) => (
        <ParameterField
          key={p.name}
          parameter={p}
          value={values[p.name] ?? ""}
          error={shown(p.name, problems[p.name])}
          fromPreset={presetValues.has(p.name) ? preset?.name : undefined}
          onChange={(value) => {
            setValues((v) => ({ ...v, [p.name]: value }));
            touch(p.name);
          }}
        />
      ))}
      <ErrorAlert error={create.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={create.busy} aria-busy={create.busy}>
          Create workspace
        </button>
        <Link href="/workspaces" class="button">
          Cancel
        </Link>
      </div>
    </form>
  );
}

// --- One parameter: its checks and its control ---

// What is wrong with a value, as the API would see it, or undefined.
export function parameterProblem(p: TemplateVersionParameter, value: string): string | undefined {
  if (value === "") return p.required ? "This parameter is required." : undefined;
  if (p.type === "number") {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) return "Enter a number.";
    const min = p.validation_min ?? undefined;
    const max = p.validation_max ?? undefined;
    if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
      if (p.validation_error) return p.validation_error;
      if (min !== undefined && max !== undefined) return `Value must be between ${min} and ${max}.`;
      return min !== undefined ? `Value must be at least ${min}.` : `Value must be at most ${max}.`;
    }
  }
  if (p.type === "bool" && value !== "true" && value !== "false") return "Choose true or false.";
  if (p.type === "list(string)") {
    const list = parseList(value);
    if (!list) return "Enter a list of values.";
    if (p.required && list.length === 0) return "This parameter is required.";
  }
  if (p.validation_regex) {
    let pattern: RegExp | undefined;
    try {
      pattern = new RegExp(p.validation_regex);
    } catch {
      pattern = undefined; // Go's syntax that JavaScript lacks: the API will judge it.
    }
    if (pattern && !pattern.test(value)) return p.validation_error || `Value must match ${p.validation_regex}.`;
  }
  return undefined;
}

function parseList(value: string): string[] | null {
  if (value === "") return [];
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed) && parsed.every((v) => typeof v === "string")) return parsed as string[];
  } catch {
    // Not JSON: not a list.
  }
  return null;
}

type Control = "text" | "textarea" | "number" | "slider" | "select" | "radio" | "checkbox" | "switch" | "multi-select" | "tags";

// The control a parameter asks for: its form_type where that fits its type, else Coder's default.
export function controlFor(p: TemplateVersionParameter): Control {
  const form = p.form_type ?? "";
  const hasOptions = p.options.length > 0;
  if (p.type === "list(string)") return hasOptions ? "multi-select" : "tags";
  if (hasOptions) return form === "dropdown" ? "select" : "radio";
  if (p.type === "bool") return form === "switch" ? "switch" : form === "radio" ? "radio" : "checkbox";
  if (p.type === "number") return form === "slider" ? "slider" : "number";
  return form === "textarea" ? "textarea" : "text";
}

function ParameterField(props: {
  parameter: TemplateVersionParameter;
  value: string;
  error: string | undefined;
  fromPreset: string | undefined;
  onChange: (value: string) => void;
}) {
  const p = props.parameter;
  const id = `param-${p.name}`;
  const control = controlFor(p);
  const disabled = props.fromPreset !== undefined;
  const described = `${id}-hint${props.error ? ` ${id}-error` : ""}`;
  const common = {
    id,
    name: p.name,
    disabled,
    "aria-invalid": Boolean(props.error),
    "aria-required": p.required,
    "aria-describedby": described,
  };
  const label = (
    <>
      {p.display_name || p.name}
      {p.required && (
        <span class="required-mark" title="Required">
          {" "}
          *<span class="visually-hidden"> (required)</span>
        </span>
      )}
    </>
  );
  const hint = <ParameterHint parameter={p} fromPreset={props.fromPreset} />;

  if (control === "radio" || control === "multi-select") {
    return (
      <fieldset class={"field param-field" + (props.error ? " invalid" : "")} aria-describedby={described} disabled={disabled}>
        <legend>{label}</legend>
        {control === "radio" ? (
          <RadioChoices parameter={p} value={props.value} onChange={props.onChange} />
        ) : (
          <MultiSelect parameter={p} value={props.value} onChange={props.onChange} />
        )}
        <ParameterFoot id={id} hint={hint} error={props.error} />
      </fieldset>
    );
  }

  let input: ComponentChildren;
  switch (control) {
    case "textarea":
      input = <textarea {...common} value={props.value} onInput={(e) => props.onChange(e.currentTarget.value)} />;
      break;
    case "number":
      input = (
        <input
          {...common}
          type="number"
          value={props.value}
          min={p.validation_min ?? undefined}
          max={p.validation_max ?? undefined}
          onInput={(e) => props.onChange(e.currentTarget.value)}
        />
      );
      break;
    case "slider": {
      const min = p.validation_min ?? 0;
      const max = p.validation_max ?? 100;
      input = (
        <div class="slider-row">
          <span class="muted">{min}</span>
          <input
            {...common}
            type="range"
            min={min}
            max={max}
            step={1}
            value={props.value}
            onInput={(e) => props.onChange(e.currentTarget.value)}
          />
          <span class="muted">{max}</span>
          <output for={id} class="slider-value">
            {props.value}
          </output>
        </div>
      );
      break;
    }
    case "select":
      input = (
        <select {...common} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
          {!p.options.some((o) => o.value === props.value) && <option value={props.value}>{props.value || "Choose…"}</option>}
          {p.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.name || o.value}
            </option>
          ))}
        </select>
      );
      break;
    case "checkbox":
    case "switch":
      input = (
        <div class={"check-row" + (control === "switch" ? " switch" : "")}>
          <input
            {...common}
            type="checkbox"
            role={control === "switch" ? "switch" : undefined}
            checked={props.value === "true"}
            onChange={(e) => props.onChange(e.currentTarget.checked ? "true" : "false")}
          />
          <span aria-hidden="true">{props.value === "true" ? "On" : "Off"}</span>
        </div>
      );
      break;
    case "tags":
      input = <TagList common={common} value={props.value} onChange={props.onChange} />;
      break;
    default:
      input = <input {...common} type="text" value={props.value} onInput={(e) => props.onChange(e.currentTarget.value)} />;
  }
  return (
    <div class={"field param-field" + (props.error ? " invalid" : "")}>
      <label for={id}>{label}</label>
      {input}
      <ParameterFoot id={id} hint={hint} error={props.error} />
    </div>
  );
}

function ParameterHint({ parameter: p, fromPreset }: { parameter: TemplateVersionParameter; fromPreset: string | undefined }) {
  const description = p.description_plaintext || p.description;
  const defaultText = defaultLabel(p);
  return (
    <>
      {description && <span class="param-description">{description}</span>}
      <span class="param-badges">
        {defaultText !== undefined && <span class="muted">Default: {defaultText}</span>}
        {!p.mutable && <Badge tone="muted">Immutable</Badge>}
        {p.ephemeral && <Badge tone="muted">This build only</Badge>}
        {fromPreset !== undefined && <Badge tone="ok">Set by preset {fromPreset}</Badge>}
      </span>
    </>
  );
}

// The default as a person reads it: an option's name, a list joined, nothing when empty.
function defaultLabel(p: TemplateVersionParameter): string | undefined {
  if (p.default_value === "") return undefined;
  if (p.type === "list(string)") {
    const list = parseList(p.default_value);
    if (!list || list.length === 0) return undefined;
    return list.map((v) => p.options.find((o) => o.value === v)?.name || v).join(", ");
  }
  return p.options.find((o) => o.value === p.default_value)?.name || p.default_value;
}

function ParameterFoot({ id, hint, error }: { id: string; hint: ComponentChildren; error: string | undefined }) {
  return (
    <>
      <p class="hint" id={`${id}-hint`}>
        {hint}
      </p>
      {error && (
        <p class="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </>
  );
}

// An option's name (or value) and its description, next to its radio button or checkbox.
function OptionText({ option }: { option: ParameterOption }) {
  return (
    <span>
      {option.name || option.value}
      {option.description && <span class="muted small"> — {option.description}</span>}
    </span>
  );
}

// Options as radio buttons; a bool without options gets True and False.
function RadioChoices({ parameter: p, value, onChange }: { parameter: TemplateVersionParameter; value: string; onChange: (v: string) => void }) {
  const options =
    p.options.length > 0
      ? p.options
      : [
          { name: "True", value: "true", description: "", icon: "" },
          { name: "False", value: "false", description: "", icon: "" },
        ];
  return (
    <div class="choices" role="radiogroup">
      {options.map((o) => (
        <label key={o.value}>
          <input type="radio" name={`param-${p.name}`} value={o.value} checked={value === o.value} onChange={() => onChange(o.value)} />
          <OptionText option={o} />
        </label>
      ))}
    </div>
  );
}

// list(string) with options: one checkbox each; the value is a JSON array in the options' order.
function MultiSelect({ parameter: p, value, onChange }: { parameter: TemplateVersionParameter; value: string; onChange: (v: string) => void }) {
  const chosen = new Set(parseList(value) ?? []);
  const toggle = (option: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(option);
    else next.delete(option);
    // Values the options do not list (from an old default) keep their place at the end.
    const ordered = p.options.map((o) => o.value).filter((v) => next.has(v));
    for (const v of next) if (!ordered.includes(v)) ordered.push(v);
    onChange(JSON.stringify(ordered));
  };
  return (
    <div class="choices">
      {p.options.map((o) => (
        <label key={o.value}>
          <input type="checkbox" value={o.value} checked={chosen.has(o.value)} onChange={(e) => toggle(o.value, e.currentTarget.checked)} />
          <OptionText option={o} />
        </label>
      ))}
    </div>
  );
}

// list(string) without options: one value a line, kept as the text typed (so a new line
// survives) and handed up as a JSON array.
function TagList(props: { common: Record<string, unknown>; value: string; onChange: (v: string) => void }) {
  const toText = (value: string) => (parseList(value) ?? []).join("\n");
  const toValue = (text: string) =>
    JSON.stringify(
      text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== ""),
    );
  const [text, setText] = useState(() => toText(props.value));
  // A preset (or a reset) changes the value from outside: show it.
  useEffect(() => {
    if (toValue(text) !== props.value && parseList(props.value)) setText(toText(props.value));
  }, [props.value]);
  return (
    <textarea
      {...props.common}
      class="tag-list"
      rows={3}
      value={text}
      placeholder="One value a line"
      onInput={(e) => {
        setText(e.currentTarget.value);
        props.onChange(toValue(e.currentTarget.value));
      }}
    />
  );
}
