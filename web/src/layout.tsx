// The frame of every signed-in page: navigation, the user menu, and the page itself.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { Link, useLocation } from "./router";
import { useSession } from "./session";

function NavLink({ href, children }: { href: string; children: ComponentChildren }) {
  const { path } = useLocation();
  const current = path === href || path.startsWith(href + "/");
  return (
    <Link href={href} aria-current={current ? "page" : undefined}>
      {children}
    </Link>
  );
}

function UserMenu() {
  const session = useSession();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("click", close);
    return () => document.removeEventListener("click", close);
  }, [open]);
  return (
    <div class="user-menu" ref={ref}>
      <button type="button" aria-expanded={open} aria-haspopup="menu" onClick={() => setOpen(!open)}>
        {session.user.username}
      </button>
      {open && (
        <div class="menu" role="menu">
          <p class="menu-email">{session.user.email}</p>
          <Link href="/settings/account" role="menuitem" onClick={() => setOpen(false)}>
            Account
          </Link>
          <button type="button" role="menuitem" onClick={() => void session.signOut()}>
            Sign out
          </button>
        </div>
      )}
    </div>
  );
}

export function Layout({ children }: { children: ComponentChildren }) {
  const session = useSession();
  return (
    <>
      <header class="topbar">
        <Link href="/workspaces" class="brand" aria-label="Berth home">
          Berth
        </Link>
        <nav aria-label="Main">
          <NavLink href="/workspaces">Workspaces</NavLink>
          <NavLink href="/templates">Templates</NavLink>
          <NavLink href="/tasks">Tasks</NavLink>
          {session.isOwner && <NavLink href="/users">Users</NavLink>}
        </nav>
        <UserMenu />
      </header>
      <main>{children}</main>
    </>
  );
}
