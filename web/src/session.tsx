// Who is signed in: loaded once from /users/me, shared with every page through a context.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { api } from "./api";
import type { User } from "./types";

export interface Session {
  user: User;
  isOwner: boolean;
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

// The signed-in user; only pages inside the signed-in layout call it.
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in page");
  return session;
}

export function isOwner(user: User): boolean {
  return user.roles.some((r) => r.name === "owner");
}

// The signed-in user, or null when the cookie is missing or no longer valid.
export async function loadUser(): Promise<User | null> {
  try {
    return await api.get<User>("/users/me");
  } catch (e) {
    if (e instanceof Error && "status" in e && (e as { status: number }).status === 401) return null;
    throw e;
  }
}
