// Validate a WebVTT file with the W3C's parser; print the errors as JSON.
const fs = require("fs");
const { WebVTTParser } = require("webvtt-parser");
const text = fs.readFileSync(process.argv[2], "utf8");
const tree = new WebVTTParser().parse(text, "metadata");
process.stdout.write(JSON.stringify({ errors: tree.errors, cues: tree.cues.length }));
