// Validate a WebVTT file with the W3C's parser; print the errors and the cues as JSON.
const fs = require("fs");
const { WebVTTParser } = require("webvtt-parser");
const text = fs.readFileSync(process.argv[2], "utf8");
const tree = new WebVTTParser().parse(text, "metadata");
const cues = tree.cues.map((c) => ({ start: c.startTime, end: c.endTime, text: c.text }));
process.stdout.write(JSON.stringify({ errors: tree.errors, cues: cues.length, list: cues }));
