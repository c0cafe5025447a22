// Sign-in with email and password; the answer sets the session cookie.
import { useState } from "preact/hooks";
import { api } from "../api";
import { ErrorAlert, Field } from "../components";
import { useSubmit } from "../hooks";

export async function signIn(email: string, password: string) {
  await api.post("/users/login", { email, password });
}

export function LoginPage({ onDone }: { onDone: () => Promise<void> }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { submit, busy, error } = useSubmit(async () => {
    await signIn(email, password);
    await onDone();
  });
  return (
    <main class="narrow">
      <h1>Sign in to Berth</h1>
      <form onSubmit={submit} class="card">
        <ErrorAlert error={error} />
        <Field label="Email" id="email" error={error?.fieldDetail("email")}>
          <input id="email" type="email" autoComplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Field>
        <Field label="Password" id="password" error={error?.fieldDetail("password")}>
          <input
            id="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
