// Text in SVG and HTML without a DOM: escaping, and widths estimated from the characters,
// since nothing here can measure a font. Estimates lean wide so labels fit their boxes.

const XML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/**
 * Text made safe for XML content and attribute values. Control characters XML 1.0
 * forbids are dropped: a state key may hold anything, the document must stay well formed.
 */
export function escapeXml(text: string): string {
  let out = '';
  for (const c of text) {
    if (isXmlChar(c)) out += XML_ENTITIES[c] ?? c;
  }
  return out;
}

// XML 1.0 allows tab, line feed and carriage return, and no other control character.
function isXmlChar(c: string): boolean {
  const code = c.charCodeAt(0);
  if (code < 0x20) return c === '\t' || c === '\n' || c === '\r';
  return code !== 0xfffe && code !== 0xffff;
}

const NARROW = new Set([..."iljtfrI.,:;|!'`()[]{} "]);
const WIDE = new Set([...'mwMW@%&']);

/** The width of `text` set in a sans-serif face at `fontSize` pixels, estimated per character. */
export function textWidth(text: string, fontSize: number): number {
  let ems = 0;
  for (const c of text) {
    if (NARROW.has(c)) ems += 0.34;
    else if (WIDE.has(c)) ems += 0.9;
    else if (c >= 'A' && c <= 'Z') ems += 0.68;
    else if (c.charCodeAt(0) > 0x2e7f)
      ems += 1; // CJK and other full-width scripts
    else ems += 0.58;
  }
  return Math.ceil(ems * fontSize);
}
