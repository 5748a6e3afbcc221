// Text from the network or from a request (names, URLs, API error messages, callback parameters)
// may carry terminal escapes: an OSC sequence retitles the window, CSI clears the screen, CR/LF
// forge table rows, bidi overrides reorder what a person reads. Before such text reaches a
// terminal it goes through escapeControls, which shows each such character as a JSON-style
// escape: \t, \n, \r, and \u001b for ESC and every other one. Backslashes are kept as they are.
// Machine formats (json, ndjson, csv) never go through it: they stay byte-exact.

// C0 controls, DEL, C1 controls; Arabic letter mark; LRM, RLM; LRE..RLO embeddings and overrides;
// LRI..PDI isolates; line and paragraph separators.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
const CONTROLS_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeOne(ch: string): string {
  return NAMED[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Shows every control, bidi and line-separator character of `text` as a visible escape (ESC -> \u001b). */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, escapeOne);
}

/** Like escapeControls, but keeps line feeds: for our own multi-line notes and hints. */
export function escapeControlsKeepLines(text: string): string {
  return text.replace(CONTROLS_BUT_LF, escapeOne);
}
