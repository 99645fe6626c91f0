"""A minimal ctypes binding to libespeak-ng in synchronous mode, and where to find it.

The wheel ``espeakng-loader`` ships the library and its data, so ``pip install`` alone is
enough; a system ``libespeak-ng.so.1`` (Debian ``libespeak-ng1``) is the fallback. The same
choice is used by the pyttsx3 worker, so both eSpeak-based engines sound the same.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import EngineError
from .base import Speech, Voice, WordMark

AUDIO_OUTPUT_SYNCHRONOUS = 2
CHARS_UTF8 = 1
ENDPAUSE = 0x1000
PHONEMES = 0x100
"""Read ``[[...]]`` as eSpeak NG phoneme mnemonics (lexicon entries given as phonemes)."""
POS_CHARACTER = 1
PARAM_RATE = 1
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1


@dataclass(frozen=True)
class EspeakLocation:
    """Where the library and its data directory are."""

    library: str
    data: str | None
    """The ``espeak-ng-data`` directory, or None for the library's built-in default."""


def locate_espeak() -> EspeakLocation:
    """Prefer the wheel's library and data; fall back to the system library."""
    if os.environ.get("AUDIOESSAY_ESPEAK") != "system":
        try:
            import espeakng_loader

            lib = Path(espeakng_loader.get_library_path())
            so1 = lib.with_name(lib.name + ".1")
            return EspeakLocation(
                str(so1 if so1.exists() else lib), espeakng_loader.get_data_path()
            )
        except (ImportError, RuntimeError, OSError):
            pass
    found = ctypes.util.find_library("espeak-ng")
    if found is None:
        raise EngineError(
            "eSpeak NG is not installed: `pip install espeakng-loader` "
            "or `apt-get install libespeak-ng1`"
        )
    return EspeakLocation(found, None)


def espeak_identity() -> str:
    """Which eSpeak NG build speaks: the wheel's version, or the system library's real file."""
    where = locate_espeak()
    if where.data is not None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return f"espeakng-loader {version('espeakng-loader')}"
        except PackageNotFoundError:
            pass
    return str(Path(where.library).resolve().name if "/" in where.library else where.library)


def preload_espeak() -> EspeakLocation:
    """Load the chosen library globally so a later ``dlopen("libespeak-ng.so.1")`` reuses it."""
    where = locate_espeak()
    if where.data is not None:
        # eSpeak NG reads ESPEAK_DATA_PATH when initialised without a path (as pyttsx3 does).
        os.environ["ESPEAK_DATA_PATH"] = str(Path(where.data).parent)
    ctypes.CDLL(where.library, mode=ctypes.RTLD_GLOBAL)
    return where


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_void_p),
    ]


class _VoiceStruct(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class EspeakLibrary:
    """The process-wide eSpeak NG instance (the library is a singleton and not thread-safe)."""

    _instance: EspeakLibrary | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        where = locate_espeak()
        try:
            self._lib = ctypes.CDLL(where.library, mode=ctypes.RTLD_GLOBAL)
        except OSError as exc:
            raise EngineError(f"cannot load eSpeak NG from {where.library}: {exc}") from exc
        data_root = str(Path(where.data).parent).encode() if where.data else None
        lib = self._lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_Callback]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceStruct))
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_root, 0)
        if rate <= 0:
            raise EngineError("eSpeak NG failed to initialise (is its data installed?)")
        self.sample_rate = rate
        self._selected: tuple[str, int] | None = None
        self._chunks: list[bytes] = []
        self._words: list[WordMark] = []
        self._callback = _Callback(self._on_audio)  # kept referenced: C holds the pointer
        lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> EspeakLibrary:
        """The shared instance, created on first use."""
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _on_audio(
        self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]
    ) -> int:
        index = 0
        while events and events[index].type != EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == EVENT_WORD:  # positions count characters from 1
                self._words.append(WordMark(event.text_position - 1, event.length, event.sample))
            index += 1
        if count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    def voices(self) -> list[Voice]:
        """Every installed voice, with its language codes."""
        with self._lock:
            array = self._lib.espeak_ListVoices(None)
            result: list[Voice] = []
            i = 0
            while array[i]:
                v = array[i].contents
                result.append(
                    Voice(
                        id=(v.identifier or b"").decode("utf-8", "replace"),
                        name=(v.name or b"").decode("utf-8", "replace"),
                        languages=_languages(v.languages),
                        gender={1: "male", 2: "female"}.get(v.gender),
                    )
                )
                i += 1
            return result

    def select(self, voice: str, rate: int) -> None:
        """Load a voice and set the rate (loading a voice reads files: done once, not per call)."""
        with self._lock:
            self._select(voice, rate)

    def _select(self, voice: str, rate: int) -> None:
        if self._selected == (voice, rate):
            return
        if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise EngineError(f"eSpeak NG has no voice {voice!r}")
        self._lib.espeak_SetParameter(PARAM_RATE, rate, 0)
        self._selected = (voice, rate)

    def synthesize(self, text: str, voice: str, rate: int) -> Speech:
        """Speak ``text`` synchronously; the whole utterance is returned at once."""
        from ..dsp import from_pcm16  # (here: the voice workers speak PCM, without NumPy)

        pcm, words = self.synthesize_pcm(text, voice, rate)
        return Speech(from_pcm16(pcm), self.sample_rate, words)

    def synthesize_pcm(self, text: str, voice: str, rate: int) -> tuple[bytes, tuple[WordMark, ...]]:
        """Speak ``text`` synchronously, as 16-bit little-endian PCM at :attr:`sample_rate`,
        with eSpeak NG's word events: where each word it says begins, in characters of ``text``
        and in samples of the PCM. (eSpeak NG reports no event for a word it runs into the next
        one, such as an unstressed "a"; the transcript places those between their neighbours.)"""
        encoded = text.encode("utf-8") + b"\0"
        with self._lock:
            self._chunks, self._words = [], []
            self._select(voice, rate)
            status = self._lib.espeak_Synth(
                encoded,
                len(encoded),
                0,
                POS_CHARACTER,
                0,
                CHARS_UTF8 | ENDPAUSE | PHONEMES,
                None,
                None,
            )
            if status != 0:
                raise EngineError(f"eSpeak NG failed (status {status}) on: {text[:80]!r}")
            pcm, words = b"".join(self._chunks), tuple(self._words)
            self._chunks, self._words = [], []
        return pcm, words


def _languages(pointer: int | None) -> tuple[str, ...]:
    """Decode eSpeak's language list: (priority byte, name, NUL) repeated, ending in NUL."""
    if not pointer:
        return ()
    raw = ctypes.string_at(pointer, 256)
    out: list[str] = []
    i = 0
    while i < len(raw) and raw[i] != 0:
        end = raw.index(b"\0", i + 1)
        out.append(raw[i + 1 : end].decode("utf-8", "replace"))
        i = end + 1
    return tuple(out)
