// Placeholder: replaced by the real page.
import { PageHeader } from "../components";

export function TemplatePage(_props: { params: Record<string, string> }) {
  return <PageHeader title="TemplatePage" />;
}
