"""Benchmark audioessay against the floor: eSpeak NG's command line, then LAME, on the same text.

For each input it prints, from one run: the floor (``espeak-ng -w`` then ``lame`` CBR 64 kb/s
44.1 kHz mono), our cold render (empty cache), our warm render after editing one section, and
the peak memory of the whole process tree (the render and its voice workers, sampled every
20 ms), with ratios to the floor. Targets on a 2-core machine: cold <= 1.0x, warm <= 0.25x,
peak RSS <= 300 MB for the book. Timings are wall-clock on a shared machine: read them as
ratios measured side by side, not as absolute numbers.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
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


def run(command: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak RSS of the process tree (MB) of one command."""
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode() if process.stderr else ''}")
    return elapsed, peak / 2**20


def floor(text: Path, work: Path) -> float:
    """espeak-ng -w on the same text, then lame CBR 64 kb/s 44.1 kHz mono."""
    wav, mp3 = work / "floor.wav", work / "floor.mp3"
    espeak, _ = run(["espeak-ng", "-w", str(wav), "-f", str(text)])
    lame, _ = run(["lame", "--quiet", "-b", "64", "--cbr", "-m", "m", "--resample", "44.1", str(wav), str(mp3)])
    return espeak + lame


def bench(name: str, essay: Path, work: Path, engine: str, jobs: int) -> dict[str, float | str]:
    out, cache = work / "out", work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    base = floor(essay, work)
    render = [PYTHON, "-m", "audioessay", "render", str(essay), "-o", str(out), "--engine", engine,
              "-j", str(jobs), "--cache-dir", str(cache), "-q"]
    cold, cold_rss = run(render)
    edit_one_section(essay)
    warm, warm_rss = run(render)
    return {"input": name, "floor": base, "cold": cold, "warm": warm, "rss": max(cold_rss, warm_rss)}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="pyttsx3")
    parser.add_argument("--jobs", type=int, default=psutil.cpu_count() or 1)
    parser.add_argument("--book-words", type=int, default=100_000)
    parser.add_argument("--skip-book", action="store_true")
    parser.add_argument("--engines", help="compare the speed of these engines (comma-separated) instead")
    parser.add_argument("--serve", action="store_true", help="measure the server instead: feed.xml with --episodes episodes")
    parser.add_argument("--corpus", action="store_true", help="render the longest real document of ../shared/corpus/real instead")
    parser.add_argument("--episodes", type=int, default=500)
    args = parser.parse_args()
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
    rows = []
    with tempfile.TemporaryDirectory(prefix="audioessay-bench-") as scratch:
        work = Path(scratch)
        if REFERENCE.is_file():
            essay = work / "leaving-las-vegas.txt"
            shutil.copy(REFERENCE, essay)
            rows.append(bench("reference essay (1,527 words)", essay, work, args.engine, args.jobs))
        else:
            print(f"skipping the reference essay: {REFERENCE} is absent", file=sys.stderr)
        if not args.skip_book:
            book = generate_book(work / "book.md", args.book_words)
            rows.append(bench(f"generated book ({args.book_words:,} words)", book, work, args.engine, args.jobs))
    print(f"engine {args.engine}, --jobs {args.jobs}, {psutil.cpu_count()} cores")
    print(f"{'input':34} {'floor':>8} {'cold':>8} {'ratio':>6} {'warm':>8} {'ratio':>6} {'peak RSS':>9}")
    for row in rows:
        f, c, w = float(row["floor"]), float(row["cold"]), float(row["warm"])
        print(f"{row['input']:34} {f:7.2f}s {c:7.2f}s {c / f:5.2f}x {w:7.2f}s {w / f:5.2f}x {float(row['rss']):6.0f} MB")
    print("targets: cold <= 1.00x, warm <= 0.25x, peak RSS <= 300 MB")


if __name__ == "__main__":
    main()
