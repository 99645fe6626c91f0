// Parse a podcast feed with the Podcast Index's parser (podcast-partytime); print it as JSON.
const fs = require("fs");
const { parseFeed } = require("podcast-partytime");
const feed = parseFeed(fs.readFileSync(process.argv[2], "utf8"));
process.stdout.write(JSON.stringify(feed));
