// audioessay episode pages: chapter buttons and transcript sentences that seek, the current
// sentence and word highlighted, a speed control and keyboard shortcuts. The page works without
// this script; it only adds what needs one. No dependencies, nothing fetched.
(function () {
  "use strict";
  var audio = document.getElementById("audio");
  if (!audio) return;
  var controls = document.querySelector(".controls");
  var speed = document.getElementById("speed");
  var follow = document.getElementById("follow");
  var wordsToggle = document.getElementById("words");
  var shortcuts = document.getElementById("shortcuts");
  var status = document.getElementById("status");
  var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  var cues = Array.prototype.slice.call(document.querySelectorAll(".cue[data-start]"));
  var starts = cues.map(function (c) { return parseFloat(c.getAttribute("data-start")); });
  var ends = cues.map(function (c) { return parseFloat(c.getAttribute("data-end")); });
  var current = -1;
  var SPEEDS = Array.prototype.map.call(speed.options, function (o) { return parseFloat(o.value); });

  function store(key, value) { try { localStorage.setItem("audioessay." + key, value); } catch (e) { /* private mode */ } }
  function recall(key) { try { return localStorage.getItem("audioessay." + key); } catch (e) { return null; } }

  // Chapter links become buttons that seek; without the script they link to the transcript.
  var chapterButtons = [];
  Array.prototype.forEach.call(document.querySelectorAll(".chapters a[data-start]"), function (link) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "seek";
    button.setAttribute("data-start", link.getAttribute("data-start"));
    while (link.firstChild) button.appendChild(link.firstChild);
    link.parentNode.replaceChild(button, link);
    chapterButtons.push(button);
  });
  var chapterStarts = chapterButtons.map(function (b) { return parseFloat(b.getAttribute("data-start")); });

  // Sentences: one tab stop for the whole transcript (roving tabindex), arrows move between them.
  cues.forEach(function (cue, i) {
    cue.setAttribute("role", "button");
    cue.setAttribute("tabindex", i === 0 ? "0" : "-1");
  });

  // Words: a sentence the voice timed lists each word's start (ms after the sentence's) in
  // data-words; its words are wrapped in spans here, so the page without the script stays plain
  // text. The word highlight is visual only: no ARIA state changes, nothing is announced.
  var wordSpans = [], wordOffsets = [], currentWord = null;
  cues.forEach(function (cue, i) {
    wordSpans[i] = null;
    var data = cue.getAttribute("data-words");
    var time = cue.querySelector("time");
    var text = time ? time.nextSibling : cue.firstChild;
    if (!data || !text || text.nodeType !== 3 || text.nextSibling) return;
    var offsets = data.split(" ").map(Number);
    var fragment = document.createDocumentFragment(), spans = [];
    text.nodeValue.split(/(\s+)/).forEach(function (part) {
      if (!part) return;
      if (/^\s+$/.test(part)) { fragment.appendChild(document.createTextNode(part)); return; }
      var span = document.createElement("span");
      span.className = "w";
      span.textContent = part;
      fragment.appendChild(span);
      spans.push(span);
    });
    if (spans.length !== offsets.length) return;
    cue.replaceChild(fragment, text);
    wordSpans[i] = spans;
    wordOffsets[i] = offsets;
  });

  function wordAt(index, seconds) {
    var offsets = wordOffsets[index], found = -1, elapsed = (seconds - starts[index]) * 1000 + 1;
    for (var k = 0; k < offsets.length && offsets[k] <= elapsed; k++) found = k;
    return found;
  }

  function highlightWord(seconds) {
    var next = null;
    if (wordsToggle.checked && current >= 0 && wordSpans[current] && seconds <= ends[current]) {
      var k = wordAt(current, seconds);
      if (k >= 0) next = wordSpans[current][k];
    }
    if (next === currentWord) return;
    if (currentWord) currentWord.classList.remove("now");
    currentWord = next;
    if (next) next.classList.add("now");
  }

  function announce(text) { status.textContent = text; }

  function seek(seconds, label) {
    audio.currentTime = seconds;
    var playing = audio.play();
    if (playing && playing.catch) playing.catch(function () { /* autoplay refused: stay paused */ });
    if (label) announce("Playing from " + label);
    highlight(seconds);
  }

  function indexAt(seconds) {
    var lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= seconds + 0.001) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function highlight(seconds) {
    var index = indexAt(seconds);
    if (index !== current) highlightSentence(index);
    highlightWord(seconds);
  }

  function highlightSentence(index) {
    if (current >= 0) { cues[current].classList.remove("current"); cues[current].removeAttribute("aria-current"); }
    current = index;
    if (index < 0) return;
    var cue = cues[index];
    cue.classList.add("current");
    cue.setAttribute("aria-current", "true");
    if (follow.checked && !audio.paused && !cue.contains(document.activeElement)) {
      cue.scrollIntoView({ block: "nearest", behavior: reduceMotion.matches ? "auto" : "smooth" });
    }
  }

  function focusCue(index) {
    if (index < 0 || index >= cues.length) return;
    cues.forEach(function (c) { c.setAttribute("tabindex", "-1"); });
    cues[index].setAttribute("tabindex", "0");
    cues[index].focus();
  }

  function cueLabel(cue) { return cue.textContent.replace(/^\s*[\d:]+\s*/, "").slice(0, 80); }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("button.seek, .cue[data-start]") : null;
    if (!target) return;
    var start = parseFloat(target.getAttribute("data-start"));
    if (target.classList.contains("cue")) {
      var i = cues.indexOf(target), word = event.target.closest(".w");
      var k = word && wordSpans[i] ? wordSpans[i].indexOf(word) : -1;
      focusCue(i);
      if (k >= 0) seek(start + wordOffsets[i][k] / 1000, word.textContent);  // a word: from it
      else seek(start, cueLabel(target));
    } else {
      seek(start, target.textContent.replace(/\s*\([\d:]+\)\s*$/, ""));
    }
  });

  document.addEventListener("keydown", function (event) {
    var cue = event.target.closest ? event.target.closest(".cue[data-start]") : null;
    if (cue) {
      var i = cues.indexOf(cue);
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); cue.click(); return; }
      if (event.key === "ArrowDown" || event.key === "ArrowRight") { event.preventDefault(); focusCue(i + 1); return; }
      if (event.key === "ArrowUp" || event.key === "ArrowLeft") { event.preventDefault(); focusCue(i - 1); return; }
      if (event.key === "Home") { event.preventDefault(); focusCue(0); return; }
      if (event.key === "End") { event.preventDefault(); focusCue(cues.length - 1); return; }
    }
    if (!shortcuts.checked || event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = event.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || event.target.isContentEditable) return;
    var key = event.key.toLowerCase();
    var handled = true;
    if (key === "k") { if (audio.paused) audio.play(); else audio.pause(); }
    else if (key === "j") audio.currentTime = Math.max(0, audio.currentTime - 10);
    else if (key === "l") audio.currentTime = Math.min(audio.duration || Infinity, audio.currentTime + 10);
    else if (key === "n" || key === "p") jumpChapter(key === "n" ? 1 : -1);
    else if (key === "[" || key === "]") stepSpeed(key === "]" ? 1 : -1);
    else handled = false;
    if (handled) event.preventDefault();
  });

  function jumpChapter(step) {
    var now = audio.currentTime, index = -1;
    chapterStarts.forEach(function (s, i) { if (s <= now + 0.5) index = i; });
    if (step < 0 && index >= 0 && now - chapterStarts[index] > 3) step = 0; // restart this chapter
    var target = Math.min(Math.max(index + step, 0), chapterButtons.length - 1);
    seek(chapterStarts[target], chapterButtons[target].textContent.replace(/\s*\([\d:]+\)\s*$/, ""));
  }

  function setSpeed(value) {
    audio.playbackRate = value;
    audio.defaultPlaybackRate = value;
    speed.value = String(value);
    store("speed", String(value));
  }

  function stepSpeed(step) {
    var i = SPEEDS.indexOf(audio.playbackRate);
    if (i < 0) i = SPEEDS.indexOf(1);
    var next = SPEEDS[Math.min(Math.max(i + step, 0), SPEEDS.length - 1)];
    setSpeed(next);
    announce("Speed " + next + "×");
  }

  speed.addEventListener("change", function () { setSpeed(parseFloat(speed.value)); });
  var saved = parseFloat(recall("speed"));
  if (SPEEDS.indexOf(saved) >= 0) setSpeed(saved);
  shortcuts.checked = recall("shortcuts") !== "off";
  shortcuts.addEventListener("change", function () { store("shortcuts", shortcuts.checked ? "on" : "off"); });
  follow.checked = recall("follow") !== "off";
  follow.addEventListener("change", function () { store("follow", follow.checked ? "on" : "off"); });
  wordsToggle.checked = recall("words") !== "off";
  wordsToggle.addEventListener("change", function () {
    store("words", wordsToggle.checked ? "on" : "off");
    highlightWord(audio.currentTime);
  });
  // timeupdate comes four times a second, too seldom for words: follow every frame in play.
  var ticking = false;
  function tick() {
    if (audio.paused) { ticking = false; return; }
    highlight(audio.currentTime);
    requestAnimationFrame(tick);
  }
  audio.addEventListener("play", function () { if (!ticking) { ticking = true; requestAnimationFrame(tick); } });
  // Players reset the rate when a new source loads; keep the listener's choice.
  audio.addEventListener("loadedmetadata", function () { audio.playbackRate = parseFloat(speed.value); });
  audio.addEventListener("timeupdate", function () { highlight(audio.currentTime); });
  audio.addEventListener("seeked", function () { highlight(audio.currentTime); });
  controls.hidden = false;
})();
