// Drive audioessay's pages in real headless Chromium (Debian's, through playwright-core) and
// report what happened as JSON: axe-core violations, and what seeking, speed and keys did.
// Usage: node pages.js EPISODE_URL INDEX_URL
const { chromium } = require("playwright-core");
const axePath = require.resolve("axe-core/axe.min.js");

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ARGS = [
  "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--autoplay-policy=no-user-gesture-required", "--mute-audio",
];

async function axe(page) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) }));
}

const time = (page) => page.evaluate(() => document.getElementById("audio").currentTime);

async function main() {
  const [episodeUrl, indexUrl] = process.argv.slice(2);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  const out = {};
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(episodeUrl);
    await page.waitForFunction(() => document.getElementById("audio").readyState >= 1, null, { timeout: 20000 });
    out.duration = await page.evaluate(() => document.getElementById("audio").duration);
    out.axeEpisode = await axe(page);
    out.controlsVisible = await page.isVisible(".controls");

    // Chapters: every one is a button; activating the third seeks to its start.
    const buttons = page.locator(".chapters button.seek");
    out.chapterButtons = await buttons.count();
    out.chapterSeeks = [];
    for (const i of [2, out.chapterButtons - 1]) {
      await buttons.nth(i).click();
      out.chapterSeeks.push({ expected: parseFloat(await buttons.nth(i).getAttribute("data-start")), actual: await time(page) });
    }
    await buttons.nth(1).focus();
    await page.keyboard.press("Enter");
    out.chapterKeySeek = { expected: parseFloat(await buttons.nth(1).getAttribute("data-start")), actual: await time(page) };

    // A sentence: clicking seeks to it and highlights it.
    const cues = page.locator(".cue");
    out.cues = await cues.count();
    const target = cues.nth(7);
    await target.click();
    out.cueSeek = { expected: parseFloat(await target.getAttribute("data-start")), actual: await time(page) };
    out.currentAfterClick = await page.evaluate(() => {
      const c = document.querySelector(".cue.current");
      return c && { id: c.id, ariaCurrent: c.getAttribute("aria-current") };
    });
    out.clickedId = await target.getAttribute("id");

    // Keyboard in the transcript: one tab stop, arrows move, Enter seeks.
    out.cueTabStops = await page.evaluate(() => document.querySelectorAll('.cue[tabindex="0"]').length);
    await page.keyboard.press("ArrowDown");
    out.focusedAfterArrow = await page.evaluate(() => document.activeElement.id);
    await page.keyboard.press("Enter");
    out.arrowSeek = { expected: parseFloat(await cues.nth(8).getAttribute("data-start")), actual: await time(page) };

    // Words: every timed sentence's words are wrapped; a time inside a word highlights it, and
    // only visually; clicking a word seeks to it; the highlight can be turned off, remembered.
    out.words = await page.evaluate(() => ({
      timedCues: document.querySelectorAll(".cue[data-words]").length,
      expected: Array.from(document.querySelectorAll(".cue[data-words]")).reduce((n, c) => n + c.dataset.words.split(" ").length, 0),
      spans: document.querySelectorAll(".cue .w").length,
      transition: getComputedStyle(document.querySelector(".cue .w")).transitionDuration,
    }));
    const wordCue = page.locator(".cue[data-words]").nth(5);
    const wordCueStart = parseFloat(await wordCue.getAttribute("data-start"));
    const offsets = (await wordCue.getAttribute("data-words")).split(" ").map(Number);
    const seekTo = async (seconds) => {
      await page.evaluate((t) => new Promise((done) => {
        const audio = document.getElementById("audio");
        audio.pause();
        audio.addEventListener("seeked", () => done(), { once: true });
        audio.currentTime = t;
      }), seconds);
    };
    await seekTo(wordCueStart + (offsets[2] + 20) / 1000);
    const nowWord = () => page.evaluate(() => {
      const w = document.querySelector(".cue .w.now");
      if (!w) return null;
      const spans = Array.from(w.closest(".cue").querySelectorAll(".w"));
      return { cue: w.closest(".cue").id, index: spans.indexOf(w), text: w.textContent, aria: Array.from(w.attributes).map((a) => a.name).filter((n) => n.startsWith("aria") || n === "role") };
    });
    out.wordAtTime = { expectedCue: await wordCue.getAttribute("id"), seen: await nowWord() };
    const clicked = wordCue.locator(".w").nth(4);
    await clicked.click();
    await page.evaluate(() => document.getElementById("audio").pause());
    out.wordSeek = { expected: wordCueStart + offsets[4] / 1000, actual: await time(page) };
    await page.uncheck("#words");
    out.wordsOff = await nowWord();
    await page.reload();
    await page.waitForFunction(() => document.getElementById("audio").readyState >= 1, null, { timeout: 20000 });
    out.wordsRemembered = await page.isChecked("#words");
    await page.check("#words");
    await page.emulateMedia({ reducedMotion: "reduce" });
    out.wordTransitionReduced = await page.evaluate(() => getComputedStyle(document.querySelector(".cue .w")).transitionDuration);
    await page.emulateMedia({ reducedMotion: "no-preference" });
    out.axeWords = await axe(page);
    await page.locator(".cue").nth(8).click();  // back to where the sentence tests left off

    // Playback moves the highlight along with the audio.
    await page.evaluate(() => document.getElementById("audio").play());
    await page.waitForTimeout(2500);
    out.playback = await page.evaluate(() => {
      const audio = document.getElementById("audio");
      const c = document.querySelector(".cue.current");
      return { time: audio.currentTime, paused: audio.paused, start: c && parseFloat(c.dataset.start), end: c && parseFloat(c.dataset.end) };
    });
    out.nextStart = await page.evaluate((id) => {
      const all = Array.from(document.querySelectorAll(".cue"));
      const i = all.findIndex((c) => c.classList.contains("current"));
      return i + 1 < all.length ? parseFloat(all[i + 1].dataset.start) : null;
    });
    out.wordDuringPlay = await page.waitForFunction(() => document.querySelector(".cue .w.now"), null, { timeout: 5000 })
      .then(nowWord, () => null);
    await page.evaluate(() => document.getElementById("audio").pause());

    // Speed: the select and the ] and [ shortcuts.
    await page.selectOption("#speed", "1.5");
    out.rateAfterSelect = await page.evaluate(() => document.getElementById("audio").playbackRate);
    await page.locator("h1").click();
    await page.keyboard.press("]");
    await page.keyboard.press("]");
    await page.keyboard.press("]");
    await page.keyboard.press("]");
    await page.keyboard.press("]");
    out.rateMax = await page.evaluate(() => document.getElementById("audio").playbackRate);
    for (let i = 0; i < 10; i++) await page.keyboard.press("[");
    out.rateMin = await page.evaluate(() => document.getElementById("audio").playbackRate);
    out.speedOptions = await page.evaluate(() => Array.from(document.querySelectorAll("#speed option")).map((o) => parseFloat(o.value)));

    // Shortcuts: N goes to the next chapter; turning shortcuts off disables them.
    await buttons.nth(0).click();
    await page.locator("h1").click();
    await page.keyboard.press("n");
    out.nextChapter = { expected: parseFloat(await buttons.nth(1).getAttribute("data-start")), actual: await time(page) };
    await page.uncheck("#shortcuts");
    const before = await time(page);
    await page.locator("h1").click();
    await page.keyboard.press("n");
    out.shortcutsOff = { before, after: await time(page) };
    out.shortcutsListed = await page.locator("details.keys kbd").allTextContents();

    // Visible focus on the skip link, and no smooth scrolling when reduced motion is asked for.
    await page.goto(episodeUrl);
    await page.keyboard.press("Tab");
    out.skipFocus = await page.evaluate(() => {
      const el = document.activeElement;
      const s = getComputedStyle(el);
      return { cls: el.className, outline: s.outlineStyle, width: s.outlineWidth, top: el.getBoundingClientRect().top };
    });
    await page.emulateMedia({ reducedMotion: "reduce" });
    out.reducedScroll = await page.evaluate(() => getComputedStyle(document.documentElement).scrollBehavior);
    out.pageErrors = errors;

    // The WebVTT file as Chromium's own track parser reads it: its inline word timestamps
    // must leave each caption's text the plain sentence.
    out.vttInChromium = await page.evaluate(() => new Promise((done, fail) => {
      const video = document.createElement("video");
      const track = document.createElement("track");
      track.kind = "captions";
      track.src = document.querySelector('a[href$=".vtt"]').getAttribute("href");
      track.default = true;
      track.addEventListener("load", () => done(Array.from(track.track.cues).map((c) => {
        const html = c.getCueAsHTML();
        const stamps = [];
        const walk = document.createTreeWalker(html, NodeFilter.SHOW_PROCESSING_INSTRUCTION);
        while (walk.nextNode()) stamps.push(walk.currentNode.data);
        return { start: c.startTime, text: html.textContent, stamps: stamps.length };
      })));
      track.addEventListener("error", () => fail(new Error("Chromium could not load the WebVTT track")));
      video.appendChild(track);
      document.body.appendChild(video);
      track.track.mode = "hidden";
    }));

    // The index page.
    await page.goto(indexUrl);
    out.axeIndex = await axe(page);
    out.indexLinks = await page.evaluate(() => Array.from(document.querySelectorAll("main a")).map((a) => a.getAttribute("href")));
    out.subscribe = await page.evaluate(() => document.querySelector('a[type="application/rss+xml"]').getAttribute("href"));
    // On a phone's width the cover art stands above the title, which is not squeezed beside it.
    const phone = await browser.newPage({ viewport: { width: 375, height: 800 } });
    await phone.goto(indexUrl);
    out.phoneIndex = await phone.evaluate(() => {
      const box = (e) => { const r = e.getBoundingClientRect(); return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width }; };
      const cover = document.querySelector("img.cover"), title = document.querySelector("h1");
      return { cover: cover && box(cover), title: box(title), viewport: window.innerWidth };
    });
    await phone.close();

    // Without JavaScript: the player and the whole transcript are still there.
    const noScript = await browser.newContext({ javaScriptEnabled: false });
    const plain = await noScript.newPage();
    await plain.goto(episodeUrl);
    out.noJs = await plain.evaluate(() => ({
      audioControls: document.getElementById("audio").hasAttribute("controls"),
      audioSrc: document.getElementById("audio").getAttribute("src"),
      controlsHidden: document.querySelector(".controls").hidden,
      chapterLinks: Array.from(document.querySelectorAll(".chapters a")).map((a) => a.getAttribute("href")),
      cueTexts: Array.from(document.querySelectorAll(".cue")).map((c) => c.textContent),
      headings: Array.from(document.querySelectorAll("h1,h2,h3,h4,h5,h6")).map((h) => h.tagName + " " + h.textContent.trim()),
      lang: document.documentElement.lang,
      externals: Array.from(document.querySelectorAll("[src],[href]")).map((e) => e.getAttribute("src") || e.getAttribute("href")).filter((u) => /^(https?:)?\/\//.test(u) && !u.includes("pypi.org")),
    }));
    await page.goto(episodeUrl);
    await page.waitForFunction(() => document.getElementById("audio").readyState >= 1, null, { timeout: 20000 });
    out.axeEpisodeDark = null;
    await page.emulateMedia({ colorScheme: "dark" });
    out.axeEpisodeDark = await axe(page);
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(2); });
