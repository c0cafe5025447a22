// First start: the first user (an owner) is created here, then signed in.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { ErrorAlert, Field } from "../components";
import { useSubmit } from "../hooks";
import { signIn } from "./login";

export const passwordRules =
  "Strong enough to resist guessing (about 52 bits): mix lowercase and uppercase letters, numbers and special characters, or make it longer. At most 64 characters.";

export interface NewUser {
  username: string;
  email: string;
  password: string;
}

export const emptyUser: NewUser = { username: "", email: "", password: "" };

// A new account's username, email and password, with the password rules next to the password
// and the API's verdicts on the fields they name. `idPrefix` keeps the ids apart from others on
// the page; `own` (the person's own account) lets the browser offer what it remembers.
export function NewUserFields(props: {
  user: NewUser;
  onChange: (user: NewUser) => void;
  error: ApiError | undefined;
  idPrefix?: string;
  own?: boolean;
}) {
  const { user, error, idPrefix = "", own = false } = props;
  const set = (field: keyof NewUser) => (e: JSX.TargetedEvent<HTMLInputElement>) =>
    props.onChange({ ...user, [field]: e.currentTarget.value });
  const passwordError = error?.fieldDetail("password");
  return (
    <>
      <Field label="Username" id={`${idPrefix}username`} error={error?.fieldDetail("username")}>
        <input id={`${idPrefix}username`} autoComplete={own ? "username" : "off"} required value={user.username} onInput={set("username")} />
      </Field>
      <Field label="Email" id={`${idPrefix}email`} error={error?.fieldDetail("email")}>
        <input id={`${idPrefix}email`} type="email" autoComplete={own ? "email" : "off"} required value={user.email} onInput={set("email")} />
      </Field>
      <Field label="Password" id={`${idPrefix}password`} hint={passwordRules} error={passwordError}>
        <input
          id={`${idPrefix}password`}
          type="password"
          autoComplete="new-password"
          required
          aria-describedby={`${idPrefix}password-hint`}
          aria-invalid={passwordError ? true : undefined}
          value={user.password}
          onInput={set("password")}
        />
      </Field>
    </>
  );
}

export function SetupPage({ onDone }: { onDone: () => Promise<void> }) {
  const [user, setUser] = useState(emptyUser);
  const { submit, busy, error } = useSubmit(async () => {
    await api.post("/users/first", { ...user, trial: false });
    await signIn(user.email, user.password);
    await onDone();
  });
  return (
    <main class="narrow">
      <h1>Create the first user</h1>
      <p>This server has no users yet. The first one is its owner.</p>
      <form onSubmit={submit} class="card">
        <ErrorAlert error={error} />
        <NewUserFields user={user} onChange={setUser} error={error} own />
        <button type="submit" class="primary" disabled={busy}>
          Create account
        </button>
      </form>
    </main>
  );
}
