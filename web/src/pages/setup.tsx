// First start: the first user (an owner) is created here, then signed in.
import { useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { ErrorAlert, Field } from "../components";
import { toApiError } from "../hooks";
import { signIn } from "./login";

export const passwordRules =
  "Strong enough to resist guessing (about 52 bits): mix lowercase and uppercase letters, numbers and special characters, or make it longer. At most 64 characters.";

export function SetupPage({ onDone }: { onDone: () => Promise<void> }) {
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.post("/users/first", { username, email, password, trial: false });
      await signIn(email, password);
      await onDone();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="narrow">
      <h1>Create the first user</h1>
      <p>This server has no users yet. The first one is its owner.</p>
      <form onSubmit={submit} class="card">
        <ErrorAlert error={error} />
        <Field label="Username" id="username" error={error?.fieldDetail("username")}>
          <input id="username" autoComplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        </Field>
        <Field label="Email" id="email" error={error?.fieldDetail("email")}>
          <input id="email" type="email" autoComplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Field>
        <Field label="Password" id="password" hint={passwordRules} error={error?.fieldDetail("password")}>
          <input
            id="password"
            type="password"
            autoComplete="new-password"
            required
            aria-describedby="password-hint"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        <button type="submit" class="primary" disabled={busy}>
          Create account
        </button>
      </form>
    </main>
  );
}
