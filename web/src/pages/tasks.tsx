// Placeholder: replaced by the real page.
import { PageHeader } from "../components";

export function TasksPage(_props: { params: Record<string, string> }) {
  return <PageHeader title="TasksPage" />;
}
