import { LABEL, REL } from '../graph/model';

/** Fill, border and caption colour of one kind of node in Neo4j Browser. */
interface NodeLook {
  readonly label: string;
  /**
   * Diameter in px. Browser breaks captions at spaces only and cuts a longer word with an ellipsis,
   * so pods are large with a small font: a pod name of about 30 characters fits on one line and
   * reads when zoomed in (checked in Neo4j Browser 5.24).
   */
  readonly diameterPx: number;
  readonly fontSizePx: number;
  readonly color: string;
  readonly border: string;
  readonly text: string;
  readonly caption: string;
}

/**
 * How each node label looks. Every label the graph has gets a colour here: Neo4j Browser gives a
 * label without one a colour of its own, and Endpoint is on every traffic node, so it must not win.
 */
const NODE_LOOKS: readonly NodeLook[] = [
  { label: LABEL.endpoint, diameterPx: 50, fontSizePx: 9, color: '#A5ABB6', border: '#9AA1AC', text: '#FFFFFF', caption: '{name}' },
  { label: LABEL.pod, diameterPx: 104, fontSizePx: 6, color: '#4C8EDA', border: '#2870C2', text: '#FFFFFF', caption: '{name}' },
  { label: LABEL.reserved, diameterPx: 60, fontSizePx: 10, color: '#F79767', border: '#F36924', text: '#FFFFFF', caption: '{name}' },
  { label: LABEL.fqdn, diameterPx: 72, fontSizePx: 7, color: '#8DCC93', border: '#5DB665', text: '#2A2C34', caption: '{name}' },
  { label: LABEL.ip, diameterPx: 40, fontSizePx: 7, color: '#C990C0', border: '#B261A5', text: '#FFFFFF', caption: '{name}' },
  { label: LABEL.collector, diameterPx: 30, fontSizePx: 7, color: '#D9C8AE', border: '#C0A378', text: '#2A2C34', caption: '{id}' },
  { label: LABEL.changeFeed, diameterPx: 30, fontSizePx: 7, color: '#D9C8AE', border: '#C0A378', text: '#2A2C34', caption: '{id}' },
  { label: LABEL.changeLog, diameterPx: 30, fontSizePx: 7, color: '#D9C8AE', border: '#C0A378', text: '#2A2C34', caption: '{seq}' },
  {
    label: LABEL.ingestStage,
    diameterPx: 30,
    fontSizePx: 7,
    color: '#D9C8AE',
    border: '#C0A378',
    text: '#2A2C34',
    caption: '{collectorId}',
  },
  { label: LABEL.bucketLane, diameterPx: 30, fontSizePx: 7, color: '#D9C8AE', border: '#C0A378', text: '#2A2C34', caption: '{id}' },
  { label: LABEL.activity, diameterPx: 30, fontSizePx: 7, color: '#C6DDE8', border: '#8FB8CC', text: '#2A2C34', caption: '{flows}' },
  { label: LABEL.rollup, diameterPx: 30, fontSizePx: 7, color: '#D8E8C6', border: '#A6C98F', text: '#2A2C34', caption: '{flows}' },
  { label: 'Migration', diameterPx: 30, fontSizePx: 7, color: '#D9C8AE', border: '#C0A378', text: '#2A2C34', caption: '{version}' },
];

function nodeRule(look: NodeLook): string {
  return [
    `node.${look.label} {`,
    `  diameter: ${look.diameterPx}px;`,
    `  color: ${look.color};`,
    `  border-color: ${look.border};`,
    '  border-width: 2px;',
    `  text-color-internal: ${look.text};`,
    `  font-size: ${look.fontSizePx}px;`,
    `  caption: "${look.caption}";`,
    '}',
  ].join('\n');
}

/**
 * The Neo4j Browser style (GraSS) for hubble-graph's graph, loaded with `:style <url>`: pods blue and
 * large, reserved identities orange, DNS names green, bare addresses small and violet, bookkeeping
 * nodes small and beige; every node captioned with its `name` (a pod's name, `world`, the DNS name,
 * the address) instead of the first property Browser would pick; CALLS captioned with the port.
 * Later rules win in Browser, so the general `node.Endpoint` comes before the kinds. No comments:
 * Browser's GraSS parser would glue one to the selector that follows it.
 */
export function buildBrowserStyle(): string {
  return [
    'node {',
    '  diameter: 50px;',
    '  color: #A5ABB6;',
    '  border-color: #9AA1AC;',
    '  border-width: 2px;',
    '  text-color-internal: #FFFFFF;',
    '  font-size: 9px;',
    '}',
    'relationship {',
    '  color: #A5ABB6;',
    '  shaft-width: 1px;',
    '  font-size: 8px;',
    '  padding: 3px;',
    '  text-color-external: #2A2C34;',
    '  text-color-internal: #FFFFFF;',
    '  caption: "<type>";',
    '}',
    ...NODE_LOOKS.map(nodeRule),
    `relationship.${REL.calls} {`,
    '  color: #6B7280;',
    '  shaft-width: 2px;',
    '  font-size: 9px;',
    '  caption: "{port}";',
    '}',
    '',
  ].join('\n');
}

/** The labels the style gives a look of their own (for tests and the guide's legend). */
export const STYLED_LABELS: readonly string[] = NODE_LOOKS.map((l) => l.label);
