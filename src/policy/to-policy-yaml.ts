import { Document, isNode } from 'yaml';
import type { PolicyDraft } from './build-policy-drafts';

/**
 * One YAML document of a draft, with its header and rule comments. Long strings are never folded
 * (regexes and names stay on one line).
 */
export function toPolicyDocumentYaml(draft: PolicyDraft): string {
  const doc = new Document(draft.manifest);
  doc.commentBefore = draft.header;
  const byPath = new Map<string, { path: readonly (string | number)[]; texts: string[] }>();
  for (const c of draft.comments) {
    const key = JSON.stringify(c.path);
    const entry = byPath.get(key) ?? { path: c.path, texts: [] };
    entry.texts.push(c.text);
    byPath.set(key, entry);
  }
  for (const { path, texts } of byPath.values()) {
    const node: unknown = doc.getIn(path, true);
    if (isNode(node)) node.commentBefore = texts.join('\n');
  }
  return doc.toString({ lineWidth: 0 });
}

/** The drafts as one YAML stream, one document per policy, in the drafts' order. */
export function toPolicyYaml(drafts: readonly PolicyDraft[]): string {
  return drafts.map(toPolicyDocumentYaml).join('---\n');
}
