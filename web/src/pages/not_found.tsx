import { PageHeader } from "../components";
import { Link } from "../router";

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <p>
        There is nothing here. <Link href="/workspaces">Go to your workspaces</Link>.
      </p>
    </>
  );
}
