/**
 * A link from a page to the reference text that explains it (docs/*.md,
 * served by the server at /docs/<topic>), opened beside the app.
 */
export function DocsLink({ topic, label }: { topic: string; label: string }) {
  return (
    <a className="docs-link" href={`/docs/${topic}`} target="_blank" rel="noopener">
      {label} ↗
    </a>
  );
}
