const CAMUNDA_NS = 'http://camunda.org/schema/1.0/bpmn';

/**
 * Camunda 7.20+ refuses process definitions without a history time to live,
 * and BPMN drawn for older engines has none. This gives every process that
 * lacks one the default, declaring the Camunda namespace if the file does
 * not. Processes that set their own keep it.
 */
export function withHistoryTimeToLive(bpmn: string, ttl: string): string {
  const processTag = /<((?:[\w-]+:)?process)\b([^>]*)>/g;
  if (
    ![...bpmn.matchAll(processTag)].some(
      m => !/historyTimeToLive\s*=/.test(m[2]),
    )
  ) {
    return bpmn;
  }
  let xml = bpmn;
  let prefix = new RegExp(
    `xmlns:([\\w-]+)\\s*=\\s*["']${CAMUNDA_NS.replace(/[./]/g, '\\$&')}["']`,
  ).exec(xml)?.[1];
  if (!prefix) {
    prefix = 'camunda';
    xml = xml.replace(
      /<((?:[\w-]+:)?definitions)\b/,
      `<$1 xmlns:camunda="${CAMUNDA_NS}"`,
    );
  }
  return xml.replace(processTag, (tag, name: string, attributes: string) =>
    /historyTimeToLive\s*=/.test(attributes)
      ? tag
      : `<${name}${attributes.replace(/\/$/, '')} ${prefix}:historyTimeToLive="${ttl}"${attributes.endsWith('/') ? '/' : ''}>`,
  );
}
