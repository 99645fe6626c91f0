// Validate a WebVTT file with the W3C's parser; print the errors and the cues as JSON.
// Cue text is parsed too (not "metadata" mode), so inline timestamps are checked: each must lie
// inside its cue and after the one before. Each cue lists the timestamps the parser read, and
// its plain text: the text nodes, escapes decoded, as a caption shows it.
const fs = require("fs");
const { WebVTTParser } = require("webvtt-parser");
const text = fs.readFileSync(process.argv[2], "utf8");
const tree = new WebVTTParser().parse(text);
const stamps = (node) =>
  (node.children || []).flatMap((c) => (c.type === "timestamp" ? [c.value] : stamps(c)));
const plain = (node) =>
  (node.children || []).map((c) => (c.type === "text" ? c.value : plain(c))).join("");
const cues = tree.cues.map((c) => ({
  start: c.startTime, end: c.endTime, text: c.text, plain: plain(c.tree), stamps: stamps(c.tree),
}));
process.stdout.write(JSON.stringify({ errors: tree.errors, cues: cues.length, list: cues }));
