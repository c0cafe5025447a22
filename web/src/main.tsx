// The dashboard: decides between first-user setup, sign-in and the signed-in pages, then routes.
import { render } from "preact";
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "./api";
import { ErrorAlert, Loading } from "./components";
import { toApiError } from "./hooks";
import { Layout } from "./layout";
import { AccountPage } from "./pages/account";
import { CreateWorkspacePage } from "./pages/create_workspace";
import { LoginPage } from "./pages/login";
import { NotFoundPage } from "./pages/not_found";
import { SetupPage } from "./pages/setup";
import { TaskPage } from "./pages/task";
import { TasksPage } from "./pages/tasks";
import { TemplatePage } from "./pages/template";
import { TemplatesPage } from "./pages/templates";
import { TerminalPage } from "./pages/terminal";
import { UsersPage } from "./pages/users";
import { WorkspacePage } from "./pages/workspace";
import { WorkspacesPage } from "./pages/workspaces";
import { match, navigate, useLocation } from "./router";
import { isOwner, loadUser, SessionContext } from "./session";
import type { Session } from "./session";
import "./styles.css";
import type { User } from "./types";

type Page = ComponentType<{ params: Record<string, string> }>;

// Signed-in pages, first match wins. Coder's dashboard paths where it has one.
const routes: [string, Page][] = [
  ["/workspaces", WorkspacesPage],
  ["/templates", TemplatesPage],
  ["/templates/:template", TemplatePage],
  ["/templates/:template/workspace", CreateWorkspacePage],
  ["/tasks", TasksPage],
  ["/tasks/:owner/:task", TaskPage],
  ["/users", UsersPage],
  ["/settings/account", AccountPage],
  ["/@:owner/:workspace", WorkspacePage],
  ["/@:owner/:workspace/terminal", TerminalPage],
];

type State =
  | { kind: "loading" }
  | { kind: "failed"; error: ApiError }
  | { kind: "setup" }
  | { kind: "signed-out" }
  | { kind: "signed-in"; user: User };

async function loadState(): Promise<State> {
  const user = await loadUser();
  if (user) return { kind: "signed-in", user };
  try {
    await api.get("/users/first");
    return { kind: "signed-out" };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return { kind: "setup" };
    throw e;
  }
}

function App() {
  const { path } = useLocation();
  const [state, setState] = useState<State>({ kind: "loading" });
  const refresh = async () => {
    try {
      setState(await loadState());
    } catch (e) {
      setState({ kind: "failed", error: toApiError(e) });
    }
  };
  useEffect(() => void refresh(), []);

  // Where each state may be: setup only before the first user, login only signed out.
  useEffect(() => {
    if (state.kind === "setup" && path !== "/setup") navigate("/setup", true);
    if (state.kind === "signed-out" && path !== "/login")
      navigate("/login" + (path === "/" || path === "/setup" ? "" : "?redirect=" + encodeURIComponent(path + location.search)), true);
    if (state.kind === "signed-in" && (path === "/" || path === "/login" || path === "/setup")) {
      const redirect = new URLSearchParams(location.search).get("redirect");
      navigate(redirect && redirect.startsWith("/") && !redirect.startsWith("//") ? redirect : "/workspaces", true);
    }
  }, [state, path]);

  if (state.kind === "loading") return <Loading />;
  if (state.kind === "failed")
    return (
      <main class="narrow">
        <ErrorAlert error={state.error} />
      </main>
    );
  if (state.kind === "setup") return <SetupPage onDone={refresh} />;
  if (state.kind === "signed-out") return <LoginPage onDone={refresh} />;

  const session: Session = {
    user: state.user,
    isOwner: isOwner(state.user),
    refresh,
    signOut: async () => {
      try {
        await api.post("/users/logout");
      } finally {
        setState({ kind: "signed-out" });
        navigate("/login", true);
      }
    },
  };
  let page = <NotFoundPage />;
  for (const [pattern, Component] of routes) {
    const params = match(pattern, path);
    if (params) {
      page = <Component params={params} />;
      break;
    }
  }
  return (
    <SessionContext.Provider value={session}>
      <Layout>{page}</Layout>
    </SessionContext.Provider>
  );
}

render(<App />, document.getElementById("app")!);
